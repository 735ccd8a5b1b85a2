import { Anchor, Badge, Group, MultiSelect, Stack, Switch, Text, Title } from '@mantine/core';
import { createColumnHelper } from '@tanstack/react-table';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useQuery, type Client } from 'urql';

import { DataTable } from '../components/DataTable';
import { RequestError } from '../components/Feedback';
import { DomainSelect, SearchInput } from '../components/ListControls';
import { cursorControls, Pager } from '../components/Pager';
import { graphql } from '../gql';
import type { KeysPageQuery, KeyStatus, KeyType } from '../gql/graphql';
import { useServerList } from '../hooks/useServerList';
import { useServerPagedTable } from '../hooks/useTables';
import { ADVANCED_STATUSES, EMPTY_SEARCH, EVERYDAY_STATUSES, keyFilter, type KeySearch } from './keyFilter';

export const PAGE_SIZE = 25;

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

const KEY_TYPES: KeyType[] = ['E1', 'E2', 'E3'];

/** Ask for the first keys page at once, beside the session, when the app opens on /keys: the
 * list then renders as soon as the session is known, without a second round trip. */
export function prefetchKeys(client: Client): void {
  void client.query(KeysPageDocument, { filter: null, first: PAGE_SIZE, after: null }).toPromise();
}

type KeyRow = KeysPageQuery['keys']['edges'][number]['node'];
const column = createColumnHelper<KeyRow>();

export const STATUS_COLOR: Record<string, string> = {
  ISSUED: 'green',
  IN_STOCK: 'gray',
  NOT_ACTIVATED: 'yellow',
  LOST: 'red',
  DEFECTIVE: 'orange',
};

/** The keys list: paged by the server, searched as you type (marking, UID, holder). */
export function Keys() {
  const { t, i18n } = useTranslation();
  const [criteria, setCriteria] = useState<KeySearch>(EMPTY_SEARCH);
  const change = (part: Partial<KeySearch>) => setCriteria((c) => ({ ...c, ...part }));
  const { filter, pager } = useServerList(criteria, keyFilter);

  const [{ data, fetching, error }] = useQuery({
    query: KeysPageDocument,
    variables: { filter, first: PAGE_SIZE, after: pager.after },
  });
  const keys = data?.keys;
  useEffect(() => {
    if (keys) performance.mark('keywarden:keys-page');
  }, [keys]);

  const dates = useMemo(() => new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium' }), [i18n.language]);
  const columns = useMemo(
    () => [
      column.accessor('marking', {
        header: () => t('keys.marking'),
        cell: (c) => (
          <Anchor component={Link} to={`/keys/${c.row.original.id}`}>
            {c.getValue()}
          </Anchor>
        ),
      }),
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
  const { table, pages } = useServerPagedTable(rows, columns, keys?.totalCount ?? 0, pager.pageIndex, PAGE_SIZE);

  return (
    <Stack>
      <Title order={2}>{t('keys.title')}</Title>
      <Group align="flex-end" gap="sm">
        <SearchInput
          label={t('keys.search')}
          placeholder={t('keys.searchPlaceholder')}
          value={criteria.search}
          onChange={(search) => change({ search })}
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
        <DomainSelect value={criteria.domainId} onChange={(domainId) => change({ domainId })} />
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
      <RequestError error={error} />
      <DataTable
        table={table}
        caption={t('keys.table', { page: pager.pageIndex + 1 })}
        empty={keys ? t('keys.empty') : null}
        busy={fetching}
      />
      <Pager controls={cursorControls(pager, keys?.pageInfo, pages)} always />
    </Stack>
  );
}
