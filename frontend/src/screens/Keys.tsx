import { Badge, Button, Group, MultiSelect, Select, Stack, Switch, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { createColumnHelper, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery, type Client } from 'urql';

import { DataTable } from '../components/DataTable';
import { graphql } from '../gql';
import type { KeysPageQuery, KeyStatus, KeyType } from '../gql/graphql';
import { useCursorPager } from '../hooks/useCursorPager';
import { useSession } from '../session';
import { ADVANCED_STATUSES, EMPTY_SEARCH, EVERYDAY_STATUSES, keyFilter, type KeySearch } from './keyFilter';

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

const DomainsDocument = graphql(`
  query KeyDomains {
    domains {
      id
      name
    }
  }
`);

const KEY_TYPES: KeyType[] = ['E1', 'E2', 'E3'];

/** Ask for the first keys page at once, beside the session, when the app opens on /keys: the
 * list then renders as soon as the session is known, without a second round trip. */
export function prefetchKeys(client: Client): void {
  void client.query(KeysPageDocument, { filter: null, first: PAGE_SIZE, after: null }).toPromise();
}

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
  const { viewer } = useSession();
  const [criteria, setCriteria] = useState<KeySearch>(EMPTY_SEARCH);
  const change = (part: Partial<KeySearch>) => setCriteria((c) => ({ ...c, ...part }));
  const [debounced] = useDebouncedValue(criteria.search, SEARCH_DELAY_MS);
  const filter = useMemo(() => keyFilter({ ...criteria, search: debounced }), [criteria, debounced]);
  const pager = useCursorPager();
  const { reset } = pager;
  const filterKey = JSON.stringify(filter);
  useEffect(reset, [filterKey, reset]);

  const [{ data, fetching, error }] = useQuery({
    query: KeysPageDocument,
    variables: { filter, first: PAGE_SIZE, after: pager.after },
  });
  const [domains] = useQuery({
    query: DomainsDocument,
    pause: !viewer?.myRights.includes('domains.read'),
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
      <Group align="flex-end" gap="sm">
        <TextInput
          label={t('keys.search')}
          placeholder={t('keys.searchPlaceholder')}
          value={criteria.search}
          onChange={(e) => change({ search: e.currentTarget.value })}
          type="search"
          w={260}
          maw="100%"
        />
        <MultiSelect
          label={t('keys.type')}
          data={KEY_TYPES}
          value={criteria.types}
          onChange={(types) => change({ types: types as KeyType[] })}
          w={160}
          clearable
        />
        <MultiSelect
          label={t('keys.status')}
          data={(criteria.advanced ? ADVANCED_STATUSES : EVERYDAY_STATUSES).map((value) => ({
            value,
            label: t(`keyStatus.${value}`),
          }))}
          value={criteria.statuses}
          onChange={(statuses) => change({ statuses: statuses as KeyStatus[] })}
          w={220}
          clearable
        />
        {domains.data && (
          <Select
            label={t('keys.domain')}
            placeholder={t('keys.allDomains')}
            data={domains.data.domains.map((d) => ({ value: d.id, label: d.name }))}
            value={criteria.domainId}
            onChange={(domainId) => change({ domainId })}
            w={180}
            clearable
          />
        )}
      </Group>
      <Group justify="space-between">
        <Switch
          label={t('keys.advanced')}
          checked={criteria.advanced}
          onChange={(e) => {
            const advanced = e.currentTarget.checked;
            change({
              advanced,
              statuses: advanced ? criteria.statuses : criteria.statuses.filter((s) => EVERYDAY_STATUSES.includes(s)),
            });
          }}
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
