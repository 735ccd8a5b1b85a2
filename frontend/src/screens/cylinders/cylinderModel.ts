import type { CylinderFilter } from '../../gql/graphql';

/** How one entry of a cylinder's access list stands (R11): the administration's decision
 * (desired) against what the hardware holds (programmed); a difference is an open
 * programming job (R15). */
export type AccessState = 'inSync' | 'toAdd' | 'toRemove';

export function accessState(entry: { desired: boolean; programmed: boolean }): AccessState {
  if (entry.desired && !entry.programmed) return 'toAdd';
  if (!entry.desired && entry.programmed) return 'toRemove';
  return 'inSync';
}

/** What the cylinders list's search bar holds. */
export interface CylinderSearch {
  search: string;
  /** R10: defective cylinders are found only by an advanced search */
  advanced: boolean;
  domainId: string | null;
  needsReprogramming: boolean;
}

export const EMPTY_CYLINDER_SEARCH: CylinderSearch = {
  search: '',
  advanced: false,
  domainId: null,
  needsReprogramming: false,
};

/** The server's CylinderFilter for the search bar; null when nothing narrows the list. */
export function cylinderFilter(s: CylinderSearch): CylinderFilter | null {
  const filter: CylinderFilter = {};
  if (s.search.trim()) filter.search = s.search.trim();
  if (s.advanced) filter.advanced = true;
  if (s.domainId) filter.domainId = s.domainId;
  if (s.needsReprogramming) filter.needsReprogramming = true;
  return Object.keys(filter).length ? filter : null;
}

/** Cylinders chosen for the list function (R16), by id, with their marking: the choice
 * survives paging and searching. */
export type Selection = ReadonlyMap<string, string>;

export function toggleSelection(
  selection: Selection,
  cylinders: readonly { id: string; marking: string }[],
  on: boolean,
): Selection {
  const next = new Map(selection);
  for (const c of cylinders) {
    if (on) next.set(c.id, c.marking);
    else next.delete(c.id);
  }
  return next;
}
