import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { Client } from 'urql';
import { fromValue } from 'wonka';

import { renderWith } from '../test/render';
import { Keys, PAGE_SIZE } from './Keys';

interface Vars {
  filter: { search: string } | null;
  first: number;
  after: string | null;
}

function keyNode(n: number) {
  return {
    __typename: 'Key',
    id: `k${n}`,
    marking: `K-${String(n).padStart(4, '0')}`,
    type: 'E3',
    generation: 'GEN2',
    status: 'ISSUED',
    holder: { firstName: 'Ina', lastName: `Holder${n}` },
    domain: { name: 'Default' },
    validity: { alwaysValid: n % 2 === 0, validUntil: '2027-02-21T00:00:00Z' },
  };
}

/** A server of 30 keys, paged by `after` (the index of the last key sent), searched by marking. */
function keysServer() {
  const executeQuery = vi.fn((operation: { variables: Vars }) => {
    const { filter, first, after } = operation.variables;
    const all = Array.from({ length: 30 }, (_, i) => keyNode(i + 1)).filter(
      (k) => !filter || k.marking.includes(filter.search),
    );
    const start = after ? Number(after) : 0;
    const page = all.slice(start, start + first);
    return fromValue({
      operation,
      data: {
        keys: {
          totalCount: all.length,
          pageInfo: { hasNextPage: start + first < all.length, endCursor: String(start + page.length) },
          edges: page.map((node) => ({ node })),
        },
      },
    });
  });
  return { client: { executeQuery } as unknown as Client, executeQuery };
}

describe('the keys list', () => {
  it('asks the server for one page at a time and pages on by cursor', async () => {
    const { client, executeQuery } = keysServer();
    renderWith(<Keys />, client);
    expect(await screen.findByText('K-0001')).toBeTruthy();
    expect(screen.getByText('30 keys')).toBeTruthy();
    expect(screen.getByText('Page 1 of 2')).toBeTruthy();
    expect(executeQuery.mock.calls[0][0].variables).toEqual({ filter: null, first: PAGE_SIZE, after: null });

    await userEvent.click(screen.getByRole('button', { name: 'Next page' }));

    expect(await screen.findByText('K-0026')).toBeTruthy();
    expect(screen.queryByText('K-0001')).toBeNull();
    expect(screen.getByText('Page 2 of 2')).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Next page' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('searches as you type, from the first page', async () => {
    const { client, executeQuery } = keysServer();
    renderWith(<Keys />, client);
    await screen.findByText('K-0001');
    await userEvent.click(screen.getByRole('button', { name: 'Next page' }));
    await screen.findByText('K-0026');

    await userEvent.type(screen.getByRole('searchbox', { name: 'Search keys' }), 'K-002');

    await waitFor(() => expect(screen.getByText('10 keys')).toBeTruthy());
    const last = executeQuery.mock.calls.at(-1)![0].variables;
    expect(last).toEqual({ filter: { search: 'K-002' }, first: PAGE_SIZE, after: null });
    expect(screen.getByText('K-0020')).toBeTruthy();
    expect(screen.getByText('Page 1 of 1')).toBeTruthy();
  });

  it('speaks German', async () => {
    const { default: i18n } = await import('../i18n');
    await i18n.changeLanguage('de');
    try {
      const { client } = keysServer();
      renderWith(<Keys />, client);
      expect(await screen.findByRole('heading', { name: 'Schlüssel' })).toBeTruthy();
      expect(screen.getAllByText('Ausgegeben').length).toBeGreaterThan(0);
      expect(screen.getByRole('button', { name: 'Nächste Seite' })).toBeTruthy();
    } finally {
      await i18n.changeLanguage('en');
    }
  });
});
