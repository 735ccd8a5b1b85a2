import type { KeyFilter, KeyStatus, KeyType } from '../gql/graphql';

/** What the keys list's search bar holds. */
export interface KeySearch {
  search: string;
  /** R10: lost and defective keys are found only by an advanced search */
  advanced: boolean;
  statuses: KeyStatus[];
  types: KeyType[];
  domainId: string | null;
}

export const EMPTY_SEARCH: KeySearch = { search: '', advanced: false, statuses: [], types: [], domainId: null };

/** Statuses every search may ask for; LOST and DEFECTIVE only with advanced search (R10). */
export const EVERYDAY_STATUSES: KeyStatus[] = ['NOT_ACTIVATED', 'IN_STOCK', 'ISSUED'];
export const ADVANCED_STATUSES: KeyStatus[] = [...EVERYDAY_STATUSES, 'LOST', 'DEFECTIVE'];

/** The server's KeyFilter for the search bar; null when nothing narrows the list. */
export function keyFilter(s: KeySearch): KeyFilter | null {
  const allowed = s.advanced ? ADVANCED_STATUSES : EVERYDAY_STATUSES;
  const statuses = s.statuses.filter((status) => allowed.includes(status));
  const filter: KeyFilter = {};
  if (s.search.trim()) filter.search = s.search.trim();
  if (s.advanced) filter.advanced = true;
  if (statuses.length) filter.status = statuses;
  if (s.types.length) filter.type = s.types;
  if (s.domainId) filter.domainId = s.domainId;
  return Object.keys(filter).length ? filter : null;
}
