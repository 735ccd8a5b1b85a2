import { Box, Button, Group, MultiSelect, Stack, Text, TextInput, Title } from '@mantine/core';
import { createColumnHelper } from '@tanstack/react-table';
import { useEffect, useMemo, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { useQuery } from 'urql';

import { DataTable } from '../../components/DataTable';
import { RequestError } from '../../components/Feedback';
import { ListCount } from '../../components/ListControls';
import { cursorControls, Pager } from '../../components/Pager';
import { SearchPicker } from '../../components/Pickers';
import { graphql } from '../../gql';
import type { AuditTrailPageQuery } from '../../gql/graphql';
import { useFormats } from '../../hooks/useFormats';
import { useServerList } from '../../hooks/useServerList';
import { useServerPagedTable } from '../../hooks/useTables';
import { EventElement, ResultBadge } from './AuditCells';
import { ACCESS_RESULTS, auditFilter, criteriaFromSearch, exportHref, searchFromCriteria, type AuditCriteria } from './auditModel';

export const AUDIT_PAGE_SIZE = 25;

const AuditTrailPageDocument = graphql(`
  query AuditTrailPage($filter: AuditEventFilter, $first: Int, $after: String) {
    auditEvents(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          at
          result
          key {
            id
            marking
          }
          cylinder {
            id
            marking
          }
        }
      }
    }
  }
`);

// The markings of a key and a cylinder named in the URL, so that their pickers show them.
const AuditFilterLabelsDocument = graphql(`
  query AuditFilterLabels($ids: [ID!]!) {
    nodes(ids: $ids) {
      ... on Key {
        id
        marking
      }
      ... on Cylinder {
        id
        marking
      }
    }
  }
`);

type EventRow = AuditTrailPageQuery['auditEvents']['edges'][number]['node'] & { id: string };
const column = createColumnHelper<EventRow>();

/** The audit trails of keys and cylinders (R28; issue 12 item 8): newest first, paged by the
 * server, filtered by key, cylinder, result and days; the filter lives in the URL, so a link
 * shares it, and the export downloads exactly what is filtered. */
export function AuditTrail() {
  const { t } = useTranslation();
  const formats = useFormats();
  const [params, setParams] = useSearchParams();
  const criteria = useMemo(() => criteriaFromSearch(params), [params]);
  // The filter as last changed: two changes in a row (the From day, then the Until day) may
  // come before the router renders the first, so each builds on the other, not on the render.
  const latest = useRef(criteria);
  useEffect(() => {
    latest.current = criteria;
  }, [criteria]);
  const change = (part: Partial<AuditCriteria>) => {
    latest.current = { ...latest.current, ...part };
    setParams(searchFromCriteria(latest.current), { replace: true });
  };
  const { filter, pager } = useServerList(criteria, auditFilter);

  const named = [criteria.keyId, criteria.cylinderId].filter((id): id is string => Boolean(id));
  const [labels] = useQuery({ query: AuditFilterLabelsDocument, variables: { ids: named }, pause: !named.length });
  const known = useMemo(
    () =>
      (labels.data?.nodes ?? []).flatMap((n) => (n && 'marking' in n ? [{ value: n.id, label: n.marking }] : [])),
    [labels.data],
  );
  const labelsKnown = !named.length || Boolean(labels.data || labels.error);

  const [{ data, fetching, error }] = useQuery({
    query: AuditTrailPageDocument,
    variables: { filter, first: AUDIT_PAGE_SIZE, after: pager.after },
  });
  const events = data?.auditEvents;
  const rows = useMemo(() => events?.edges.map((e) => ({ ...e.node, id: e.cursor })) ?? [], [events]);
  const columns = useMemo(
    () => [
      column.accessor('at', {
        header: () => t('audit.at'),
        cell: (c) => (
          <Text span size="sm" style={{ whiteSpace: 'nowrap' }}>
            {formats.dateTime(c.getValue())}
          </Text>
        ),
      }),
      column.accessor('key', {
        header: () => t('audit.key'),
        cell: (c) => <EventElement element={c.getValue()} kind="key" />,
      }),
      column.accessor('cylinder', {
        header: () => t('audit.cylinder'),
        cell: (c) => <EventElement element={c.getValue()} kind="cylinder" />,
      }),
      column.accessor('result', { header: () => t('audit.result'), cell: (c) => <ResultBadge result={c.getValue()} /> }),
    ],
    [t, formats],
  );
  const { table, pages } = useServerPagedTable(rows, columns, events?.totalCount ?? 0, pager.pageIndex, AUDIT_PAGE_SIZE);

  return (
    <Stack>
      <Title order={2}>{t('audit.title')}</Title>
      <Group align="flex-end" gap="sm">
        {labelsKnown && (
          <>
            <Box w={280} maw="100%">
              <SearchPicker
                kind="key"
                label={t('audit.key')}
                value={criteria.keyId}
                onChange={(keyId) => change({ keyId })}
                known={known}
              />
            </Box>
            <Box w={280} maw="100%">
              <SearchPicker
                kind="cylinder"
                label={t('audit.cylinder')}
                value={criteria.cylinderId}
                onChange={(cylinderId) => change({ cylinderId })}
                known={known}
              />
            </Box>
          </>
        )}
        <MultiSelect
          label={t('audit.result')}
          placeholder={criteria.results.length ? undefined : t('audit.anyResult')}
          data={ACCESS_RESULTS.map((r) => ({ value: r, label: t(`accessResult.${r}`) }))}
          value={criteria.results}
          onChange={(results) => change({ results: results as AuditCriteria['results'] })}
          clearable
          w={300}
          maw="100%"
        />
      </Group>
      <Group justify="space-between" align="flex-end">
        <Group align="flex-end" gap="sm">
          <TextInput
            type="date"
            label={t('audit.from')}
            value={criteria.from ?? ''}
            max={criteria.until ?? undefined}
            onChange={(e) => change({ from: e.currentTarget.value || null })}
          />
          <TextInput
            type="date"
            label={t('audit.until')}
            value={criteria.until ?? ''}
            min={criteria.from ?? undefined}
            onChange={(e) => change({ until: e.currentTarget.value || null })}
          />
          <ListCount total={events?.totalCount} label="audit.count" />
        </Group>
        <Button component="a" href={exportHref(criteria)} download="audit-events.csv" variant="default">
          {t('audit.export')}
        </Button>
      </Group>
      <RequestError error={error} />
      <DataTable
        table={table}
        caption={t('audit.table', { page: pager.pageIndex + 1 })}
        empty={events ? t('audit.noneFiltered') : null}
        busy={fetching}
      />
      <Pager controls={cursorControls(pager, events?.pageInfo, pages)} label={t('audit.title')} always />
    </Stack>
  );
}
