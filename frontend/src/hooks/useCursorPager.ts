import { useCallback, useState } from 'react';

/** Page by page through a Relay connection (forward cursors only): remembers where each visited
 * page started, so "previous" needs no backward paging from the server. */
export interface CursorPager {
  /** 0-based index of the page shown */
  pageIndex: number;
  /** the `after` argument of the page shown */
  after: string | null;
  next: (endCursor: string) => void;
  previous: () => void;
  reset: () => void;
}

export function useCursorPager(): CursorPager {
  const [starts, setStarts] = useState<(string | null)[]>([null]);
  const next = useCallback((endCursor: string) => setStarts((s) => [...s, endCursor]), []);
  const previous = useCallback(() => setStarts((s) => (s.length > 1 ? s.slice(0, -1) : s)), []);
  const reset = useCallback(() => setStarts([null]), []);
  return { pageIndex: starts.length - 1, after: starts[starts.length - 1], next, previous, reset };
}
