import { Badge, Button, Group, Stack, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { createColumnHelper, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { DataTable } from '../components/DataTable';
import { graphql } from '../gql';
import type { KeysPageQuery } from '../gql/graphql';
import { useCursorPager } from '../hooks/useCursorPager';

export const PAGE_SIZE = 25;
const SEARCH_DELAY_MS = 250;

const KeysPageDocument = graphql(`
  query KeysPage($filter: KeyFilter, $first: Int, $after: String) {
    keys(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          marking
          type
          generation
          status
          holder {
            firstName
            lastName
          }
          domain {
            name
          }
          validity {
            alwaysValid
            validUntil
          }
        }
      }
    }
  }
`);

type KeyRow = KeysPageQuery['keys']['edges'][number]['node'];
const column = createColumnHelper<KeyRow>();

const STATUS_COLOR: Record<string, string> = {
  ISSUED: 'green',
  IN_STOCK: 'gray',
  NOT_ACTIVATED: 'yellow',
  LOST: 'red',
  DEFECTIVE: 'orange',
};

/** The keys list: paged by the server, searched as you type (marking, UID, holder). */
export function Keys() {
  const { t, i18n } = useTranslation();
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search.trim(), SEARCH_DELAY_MS);
  const pager = useCursorPager();
  const { reset } = pager;
  useEffect(reset, [debounced, reset]);

  const [{ data, fetching, error }] = useQuery({
    query: KeysPageDocument,
    variables: { filter: debounced ? { search: debounced } : null, first: PAGE_SIZE, after: pager.after },
  });
  const keys = data?.keys;
  useEffect(() => {
    if (keys) performance.mark('keywarden:keys-page');
  }, [keys]);

  const dates = useMemo(() => new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium' }), [i18n.language]);
  const columns = useMemo(
    () => [
      column.accessor('marking', { header: () => t('keys.marking') }),
      column.accessor('type', { header: () => t('keys.type') }),
      column.accessor('generation', {
        header: () => t('keys.generation'),
        cell: (c) => t(`generation.${c.getValue()}`),
      }),
      column.accessor('status', {
        header: () => t('keys.status'),
        cell: (c) => (
          <Badge variant="dot" color={STATUS_COLOR[c.getValue()]}>
            {t(`keyStatus.${c.getValue()}`)}
          </Badge>
        ),
      }),
      column.accessor((k) => (k.holder ? `${k.holder.lastName}, ${k.holder.firstName}` : ''), {
        id: 'holder',
        header: () => t('keys.holder'),
      }),
      column.accessor((k) => k.domain.name, { id: 'domain', header: () => t('keys.domain') }),
      column.accessor((k) => k.validity, {
        id: 'validUntil',
        header: () => t('keys.validUntil'),
        cell: (c) => {
          const v = c.getValue();
          if (v.alwaysValid || !v.validUntil) return t('keys.alwaysValid');
          return dates.format(new Date(v.validUntil));
        },
      }),
    ],
    [t, dates],
  );

  const rows = useMemo(() => keys?.edges.map((e) => e.node) ?? [], [keys]);
  const table = useReactTable({
    data: rows,
    columns,
    getCoreRowModel: getCoreRowModel(),
    getRowId: (row) => row.id,
    manualPagination: true,
    rowCount: keys?.totalCount ?? 0,
    state: { pagination: { pageIndex: pager.pageIndex, pageSize: PAGE_SIZE } },
  });
  const pages = Math.max(1, table.getPageCount());

  return (
    <Stack>
      <Title order={2}>{t('keys.title')}</Title>
      <Group justify="space-between" align="flex-end">
        <TextInput
          label={t('keys.search')}
          placeholder={t('keys.searchPlaceholder')}
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          type="search"
          w={320}
          maw="100%"
        />
        <Text aria-live="polite" size="sm">
          {keys ? t('keys.count', { count: keys.totalCount }) : t('app.loading')}
        </Text>
      </Group>
      {error && (
        <Text c="red" role="alert">
          {t('errors.unexpected', { message: error.message })}
        </Text>
      )}
      <DataTable
        table={table}
        caption={t('keys.table', { page: pager.pageIndex + 1 })}
        empty={keys ? t('keys.empty') : null}
        busy={fetching}
      />
      <Group justify="flex-end" gap="sm">
        <Button variant="default" onClick={pager.previous} disabled={pager.pageIndex === 0}>
          {t('keys.previous')}
        </Button>
        <Text size="sm">{t('keys.page', { page: pager.pageIndex + 1, pages })}</Text>
        <Button
          variant="default"
          onClick={() => keys?.pageInfo.endCursor && pager.next(keys.pageInfo.endCursor)}
          disabled={!keys?.pageInfo.hasNextPage}
        >
          {t('keys.next')}
        </Button>
      </Group>
    </Stack>
  );
}
