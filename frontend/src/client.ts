import { createClient as createWsClient } from 'graphql-ws';
import { cacheExchange, Client, fetchExchange, subscriptionExchange } from 'urql';

/** The header every request carries: the server refuses cookie-authenticated POSTs without it. */
export const CSRF_HEADER = 'X-Keywarden-CSRF';

/** The GraphQL client of the web manager: queries and mutations over HTTP POST with the
 * session cookie (never a token in scripts), subscriptions over graphql-ws on the same origin,
 * authenticated by the same cookie. */
export function createClient(origin: string = window.location.origin): Client {
  const ws = createWsClient({
    url: `${origin.replace(/^http/, 'ws')}/graphql`,
    lazy: true,
    retryAttempts: 5,
  });
  return new Client({
    url: `${origin}/graphql`,
    preferGetMethod: false,
    fetchOptions: () => ({ credentials: 'same-origin', headers: { [CSRF_HEADER]: '1' } }),
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return { subscribe: (sink) => ({ unsubscribe: ws.subscribe(input, sink) }) };
        },
      }),
    ],
  });
}
