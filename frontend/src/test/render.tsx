import '../i18n';

import { MantineProvider } from '@mantine/core';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { MemoryRouter, Route, Routes } from 'react-router';
import { Provider, type Client } from 'urql';

import { SessionProvider } from '../session';

/** Render ``ui`` as the app does (Mantine, router, i18n), with ``client`` answering GraphQL. */
export function renderWith(ui: ReactElement, client: Client, path = '/') {
  return render(
    <MantineProvider>
      <Provider value={client}>
        <MemoryRouter initialEntries={[path]}>{ui}</MemoryRouter>
      </Provider>
    </MantineProvider>,
  );
}

/** Render ``ui`` at ``path`` as the route ``route`` (e.g. /keys/:id), signed in: the client
 * must answer the Viewer query (see ``viewer`` in ./server). */
export function renderRoute(ui: ReactElement, client: Client, route: string, path: string) {
  return render(
    // env "test": no transitions and no portals, so dropdowns and dialogs open at once.
    <MantineProvider env="test">
      <Provider value={client}>
        <MemoryRouter initialEntries={[path]}>
          <SessionProvider>
            <Routes>
              <Route path={route} element={ui} />
              <Route path="*" element={<p>elsewhere</p>} />
            </Routes>
          </SessionProvider>
        </MemoryRouter>
      </Provider>
    </MantineProvider>,
  );
}
