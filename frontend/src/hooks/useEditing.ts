import { useCallback, useState } from 'react';

/** The state of a list screen that creates, edits and deletes its rows: which row a form
 * edits ({ row: null } creates one), which row is asked to be deleted, and what the last
 * change did. ``refresh`` asks the list again after a change. */
export function useEditing<Row extends { id: string; name: string }, Outcome>(refresh: () => void) {
  const [editing, setEditing] = useState<{ row: Row | null } | null>(null);
  const [deleting, setDeleting] = useState<Row | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [deleted, setDeleted] = useState<string | null>(null);
  // Stable, so the list's columns that call them are made once.
  const edit = useCallback((row: Row) => setEditing({ row }), []);
  const askDelete = useCallback((row: Row) => setDeleting(row), []);
  return {
    editing,
    deleting,
    outcome,
    /** the name of the row deleted last */
    deleted,
    create: () => setEditing({ row: null }),
    edit,
    askDelete,
    closeForm: () => setEditing(null),
    closeDelete: () => setDeleting(null),
    saved: (done: Outcome) => {
      setEditing(null);
      setDeleted(null);
      setOutcome(done);
      refresh();
    },
    removed: () => {
      setDeleted(deleting?.name ?? null);
      setOutcome(null);
      setDeleting(null);
      refresh();
    },
  };
}
