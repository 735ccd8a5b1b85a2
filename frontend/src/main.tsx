import '@mantine/core/styles.css';
import './styles.css';
import './i18n';

import { MantineProvider } from '@mantine/core';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { Provider } from 'urql';

import { App } from './App';
import { createClient } from './client';
import { prefetchKeys } from './screens/Keys';
import { SessionProvider } from './session';
import { cssVariables, theme } from './theme';

const client = createClient();
if (window.location.pathname === '/keys') prefetchKeys(client);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme} cssVariablesResolver={cssVariables}>
      <Provider value={client}>
        <BrowserRouter>
          <SessionProvider>
            <App />
          </SessionProvider>
        </BrowserRouter>
      </Provider>
    </MantineProvider>
  </StrictMode>,
);
