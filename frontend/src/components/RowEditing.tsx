import { Alert, Button, Group, Modal, Stack, Title } from '@mantine/core';
import type { ColumnDef, Table } from '@tanstack/react-table';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { CombinedError, TypedDocumentNode } from 'urql';

import type { useEditing } from '../hooks/useEditing';
import { DataTable } from './DataTable';
import { DeleteDialog, type DeletePayloadLike } from './DeleteDialog';
import { RequestError } from './Feedback';

/** A row's Edit and Delete buttons, named with the row for screen readers. */
export function RowActions({
  editLabel,
  deleteLabel,
  onEdit,
  onDelete,
}: {
  editLabel: string;
  deleteLabel: string;
  onEdit: () => void;
  onDelete: () => void;
}) {
  const { t } = useTranslation();
  return (
    <Group gap="xs" wrap="nowrap">
      <Button size="xs" variant="default" onClick={onEdit} aria-label={editLabel}>
        {t('schedules.edit')}
      </Button>
      <Button size="xs" variant="outline" color="red.9" onClick={onDelete} aria-label={deleteLabel}>
        {t('schedules.delete')}
      </Button>
    </Group>
  );
}

/** The column of a row's Edit and Delete buttons, for callers who may write; none otherwise.
 * ``editLabel`` and ``deleteLabel`` name the buttons of a row by its name. */
export function actionsColumn<Row extends { id: string; name: string }>(
  canWrite: boolean,
  change: { edit: (row: Row) => void; askDelete: (row: Row) => void },
  header: string,
  editLabel: (name: string) => string,
  deleteLabel: (name: string) => string,
): ColumnDef<Row>[] {
  if (!canWrite) return [];
  return [
    {
      id: 'actions',
      header: () => header,
      cell: ({ row }) => (
        <RowActions
          editLabel={editLabel(row.original.name)}
          deleteLabel={deleteLabel(row.original.name)}
          onEdit={() => change.edit(row.original)}
          onDelete={() => change.askDelete(row.original)}
        />
      ),
    },
  ];
}

/** The dialog a create or edit form opens in; its close button is named. */
export function FormModal({
  opened,
  title,
  onClose,
  size = 'lg',
  children,
}: {
  opened: boolean;
  title: string;
  onClose: () => void;
  size?: string;
  children: ReactNode;
}) {
  const { t } = useTranslation();
  return (
    <Modal opened={opened} onClose={onClose} size={size} title={title} closeButtonProps={{ 'aria-label': t('actions.close') }}>
      {children}
    </Modal>
  );
}

/** Says what was deleted last; nothing when nothing was. */
export function DeletedNotice({ name }: { name: string | null }) {
  const { t } = useTranslation();
  if (!name) return null;
  return (
    <Alert color="green" variant="light" role="status">
      {t('delete.done', { name })}
    </Alert>
  );
}

/** A screen listing rows the caller creates, edits and deletes (schedules, access profiles):
 * the title with the New button, what the last change did, the table, the form's dialog and the
 * delete dialog. The buttons show only to callers who may write. */
export function EditableList<Row extends { id: string; name: string }, Outcome, DeleteData>({
  title,
  newLabel,
  canWrite,
  change,
  error,
  outcomeView,
  table,
  caption,
  empty,
  busy,
  minWidth,
  formTitle,
  formSize = 'lg',
  form,
  deleteDocument,
  deletedOf,
}: {
  title: string;
  newLabel: string;
  canWrite: boolean;
  change: ReturnType<typeof useEditing<Row, Outcome>>;
  error?: CombinedError;
  outcomeView: ReactNode;
  table: Table<Row>;
  caption: string;
  empty: string | null;
  busy: boolean;
  minWidth: number;
  /** the form dialog's title for ``row`` (null: a new one) */
  formTitle: (row: Row | null) => string;
  formSize?: string;
  /** the create or edit form of ``row`` (null: a new one) */
  form: (row: Row | null) => ReactNode;
  deleteDocument: TypedDocumentNode<DeleteData, { input: { id: string } }>;
  deletedOf: (data: DeleteData) => DeletePayloadLike;
}) {
  const editing = change.editing;
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{title}</Title>
        {canWrite && <Button onClick={change.create}>{newLabel}</Button>}
      </Group>
      <RequestError error={error} />
      {outcomeView}
      <DeletedNotice name={change.deleted} />
      <DataTable table={table} caption={caption} empty={empty} busy={busy} minWidth={minWidth} />
      <FormModal opened={editing !== null} onClose={change.closeForm} size={formSize} title={formTitle(editing?.row ?? null)}>
        {editing && form(editing.row)}
      </FormModal>
      <DeleteDialog
        name={change.deleting?.name ?? null}
        id={change.deleting?.id ?? ''}
        document={deleteDocument}
        payloadOf={deletedOf}
        onClose={change.closeDelete}
        onDeleted={change.removed}
      />
    </Stack>
  );
}
