import '../i18n';

import { MantineProvider } from '@mantine/core';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { MemoryRouter } from 'react-router';
import { Provider, type Client } from 'urql';

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
