import { useDebouncedValue } from '@mantine/hooks';
import { useEffect, useMemo } from 'react';

import { useCursorPager, type CursorPager } from './useCursorPager';

const SEARCH_DELAY_MS = 250;

/** A server-paged list searched as you type: the server's filter from the search bar (the typed
 * text settles for a moment first; a list without one has no ``search``), and the pager, back on
 * the first page whenever the filter changes. */
export function useServerList<Criteria extends object, Filter>(
  criteria: Criteria,
  toFilter: (criteria: Criteria) => Filter,
): { filter: Filter; pager: CursorPager } {
  const typed = 'search' in criteria && typeof criteria.search === 'string' ? criteria.search : '';
  const [debounced] = useDebouncedValue(typed, SEARCH_DELAY_MS);
  const filter = useMemo(
    () => toFilter('search' in criteria ? { ...criteria, search: debounced } : criteria),
    [criteria, debounced, toFilter],
  );
  const pager = useCursorPager();
  const { reset } = pager;
  const filterKey = JSON.stringify(filter);
  useEffect(reset, [filterKey, reset]);
  return { filter, pager };
}
