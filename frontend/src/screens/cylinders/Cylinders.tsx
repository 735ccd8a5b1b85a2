import { Anchor, Badge, Checkbox, Group, Stack, Switch, Title } from '@mantine/core';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useQuery } from 'urql';

import { SecurityBadge } from '../../components/CylinderLink';
import { DataTable } from '../../components/DataTable';
import { RequestError } from '../../components/Feedback';
import { DomainSelect, ListCount, SearchInput } from '../../components/ListControls';
import { cursorControls, Pager } from '../../components/Pager';
import { graphql } from '../../gql';
import type { CylindersPageQuery } from '../../gql/graphql';
import { useServerList } from '../../hooks/useServerList';
import { useServerPagedTable } from '../../hooks/useTables';
import { useSession } from '../../session';
import { cylinderFilter, EMPTY_CYLINDER_SEARCH, toggleSelection, type CylinderSearch, type Selection } from './cylinderModel';
import { ListFunction } from './ListFunction';

export const CYLINDER_PAGE_SIZE = 25;

const CylindersPageDocument = graphql(`
  query CylindersPage($filter: CylinderFilter, $first: Int, $after: String) {
    cylinders(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          marking
          status
          securityRelevant
          needsReprogramming
          isClone
          domain {
            name
          }
        }
      }
    }
  }
`);

type CylinderRow = CylindersPageQuery['cylinders']['edges'][number]['node'];
const column = createColumnHelper<CylinderRow>();

export const CYLINDER_STATUS_COLOR: Record<string, string> = {
  ACTIVE: 'green',
  NOT_ACTIVATED: 'yellow',
  DEFECTIVE: 'orange',
};

/** The cylinders list (issue 11 item 3): paged by the server, searched as you type; with the
 * right to change authorizations, cylinders are chosen here, across pages, for the list
 * function (R16). */
export function Cylinders() {
  const { t } = useTranslation();
  const { viewer } = useSession();
  const rights = viewer?.myRights ?? [];
  const selecting = rights.includes('access.write');
  const [criteria, setCriteria] = useState<CylinderSearch>(EMPTY_CYLINDER_SEARCH);
  const change = (part: Partial<CylinderSearch>) => setCriteria((c) => ({ ...c, ...part }));
  const { filter, pager } = useServerList(criteria, cylinderFilter);
  const [selection, setSelection] = useState<Selection>(new Map());

  const [{ data, fetching, error }] = useQuery({
    query: CylindersPageDocument,
    variables: { filter, first: CYLINDER_PAGE_SIZE, after: pager.after },
  });
  const cylinders = data?.cylinders;
  const rows = useMemo(() => cylinders?.edges.map((e) => e.node) ?? [], [cylinders]);

  const columns = useMemo(() => {
    const onPage = rows.filter((r) => selection.has(r.id)).length;
    const choose = column.display({
      id: 'select',
      header: () => (
        <Checkbox
          aria-label={t('cylinders.selectPage')}
          checked={rows.length > 0 && onPage === rows.length}
          indeterminate={onPage > 0 && onPage < rows.length}
          onChange={(e) => setSelection((s) => toggleSelection(s, rows, e.currentTarget.checked))}
        />
      ),
      cell: (c) => (
        <Checkbox
          aria-label={t('cylinders.select', { marking: c.row.original.marking })}
          checked={selection.has(c.row.original.id)}
          onChange={(e) => setSelection((s) => toggleSelection(s, [c.row.original], e.currentTarget.checked))}
        />
      ),
    });
    return [
      ...(selecting ? [choose] : []),
      column.accessor('marking', {
        header: () => t('cylinders.marking'),
        cell: (c) => (
          <Anchor component={Link} to={`/cylinders/${c.row.original.id}`} size="sm">
            {c.getValue()}
          </Anchor>
        ),
      }),
      column.accessor('status', {
        header: () => t('cylinders.status'),
        cell: (c) => (
          <Badge variant="dot" color={CYLINDER_STATUS_COLOR[c.getValue()]}>
            {t(`cylinderStatus.${c.getValue()}`)}
          </Badge>
        ),
      }),
      column.accessor((c) => c.domain.name, { id: 'domain', header: () => t('keys.domain') }),
      column.display({
        id: 'flags',
        header: () => t('cylinders.notes'),
        cell: (c) => (
          <Group gap={4}>
            <SecurityBadge relevant={c.row.original.securityRelevant} />
            {c.row.original.needsReprogramming && (
              <Badge size="xs" color="orange.9" variant="outline">
                {t('cylinders.needsReprogramming')}
              </Badge>
            )}
            {c.row.original.isClone && (
              <Badge size="xs" color="gray.7" variant="outline">
                {t('cylinders.clone')}
              </Badge>
            )}
          </Group>
        ),
      }),
    ];
  }, [t, rows, selection, selecting]);

  const { table, pages } = useServerPagedTable(
    rows,
    columns,
    cylinders?.totalCount ?? 0,
    pager.pageIndex,
    CYLINDER_PAGE_SIZE,
  );

  return (
    <Stack>
      <Title order={2}>{t('cylinders.title')}</Title>
      <Group align="flex-end" gap="sm">
        <SearchInput
          label={t('cylinders.search')}
          placeholder={t('cylinders.searchPlaceholder')}
          value={criteria.search}
          onChange={(search) => change({ search })}
        />
        <DomainSelect value={criteria.domainId} onChange={(domainId) => change({ domainId })} />
      </Group>
      <Group justify="space-between">
        <Group gap="lg">
          <Switch
            label={t('cylinders.advanced')}
            checked={criteria.advanced}
            onChange={(e) => change({ advanced: e.currentTarget.checked })}
          />
          <Switch
            label={t('cylinders.onlyNeedsReprogramming')}
            checked={criteria.needsReprogramming}
            onChange={(e) => change({ needsReprogramming: e.currentTarget.checked })}
          />
        </Group>
        <ListCount total={cylinders?.totalCount} label="cylinders.count" />
      </Group>
      <RequestError error={error} />
      <DataTable
        table={table}
        caption={t('cylinders.table', { page: pager.pageIndex + 1 })}
        empty={cylinders ? t('cylinders.empty') : null}
        busy={fetching}
      />
      <Pager controls={cursorControls(pager, cylinders?.pageInfo, pages)} label={t('cylinders.title')} always />
      {selecting && <ListFunction selection={selection} onClear={() => setSelection(new Map())} />}
    </Stack>
  );
}
