import { createContext, useContext, type ReactNode } from 'react';
import { useQuery } from 'urql';

import { graphql } from './gql';
import type { ViewerQuery } from './gql/graphql';

const ViewerDocument = graphql(`
  query Viewer {
    tenant {
      name
    }
    me {
      marking
      holder {
        firstName
        lastName
      }
      roles {
        name
      }
    }
    myRights
  }
`);

export type Viewer = ViewerQuery;

interface SessionState {
  viewer: Viewer | null;
  fetching: boolean;
  /** Ask the server again who is signed in (after sign-in and sign-out). */
  refresh: () => void;
}

const SessionContext = createContext<SessionState>({
  viewer: null,
  fetching: true,
  refresh: () => undefined,
});

/** Who is signed in, as the server says: the session itself lives in an HttpOnly cookie. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [{ data, fetching }, reexecute] = useQuery({
    query: ViewerDocument,
    requestPolicy: 'network-only',
  });
  const state: SessionState = {
    viewer: data ?? null,
    fetching,
    refresh: () => reexecute({ requestPolicy: 'network-only' }),
  };
  return <SessionContext.Provider value={state}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  return useContext(SessionContext);
}
