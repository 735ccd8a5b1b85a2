import { useEffect, useRef } from 'react';
import type { UseQueryExecute } from 'urql';

/** Asks a query's server again whenever ``version`` moves on: a card counts up its version after
 * each change made on it, so every section shows what the change did. */
export function useRefetchOn(version: number, reexecute: UseQueryExecute): void {
  const shown = useRef(version);
  useEffect(() => {
    if (version === shown.current) return;
    shown.current = version;
    reexecute({ requestPolicy: 'network-only' });
  }, [version, reexecute]);
}
