import { Alert, Badge, Text } from '@mantine/core';
import { createColumnHelper, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { CylinderLink } from '../../components/CylinderLink';
import { DataTable } from '../../components/DataTable';
import { RequestError } from '../../components/Feedback';
import { cursorControls, Pager, tableControls } from '../../components/Pager';
import { Section, SECTION_PAGE_SIZE } from '../../components/Section';
import { graphql } from '../../gql';
import type { KeyCardKeyFragment, KeyRemoteJobsQuery } from '../../gql/graphql';
import { useCursorPager } from '../../hooks/useCursorPager';
import { useFormats } from '../../hooks/useFormats';
import { useRefetchOn } from '../../hooks/useRefetchOn';
import { useClientPagedTable } from '../../hooks/useTables';
import { authorizationOrigin, type Origin } from './keyModel';

const AUTHORIZATIONS_PAGE_SIZE = 20;

function OriginText({ origin }: { origin: Origin }) {
  const { t } = useTranslation();
  if (origin.kind === 'direct') return <>{t('origin.direct')}</>;
  return <>{t(`origin.${origin.kind}`, { name: origin.name })}</>;
}

type Authorization = KeyCardKeyFragment['authorizations'][number];
const authColumn = createColumnHelper<Authorization & { origin: Origin }>();

/** The key's effective authorizations (R13, R14), where each comes from, and whether its
 * cylinder holds it yet (R11, R15). */
export function AuthorizationsSection({ keyData }: { keyData: KeyCardKeyFragment }) {
  const { t } = useTranslation();
  const rows = useMemo(() => {
    const own = keyData.accessProfiles.map((p) => p.name);
    const holders = keyData.holder?.accessProfiles.map((p) => p.name) ?? [];
    return keyData.authorizations.map((a) => ({ ...a, origin: authorizationOrigin(a.via, own, holders) }));
  }, [keyData]);
  const programmed = rows.filter((a) => a.programmed).length;
  const columns = useMemo(
    () => [
      authColumn.accessor((a) => a.cylinder.marking, {
        id: 'cylinder',
        header: () => t('jobs.cylinder'),
        cell: (c) => <CylinderLink cylinder={c.row.original.cylinder} />,
      }),
      authColumn.accessor('origin', {
        header: () => t('keyCard.origin'),
        cell: (c) => <OriginText origin={c.getValue()} />,
      }),
      authColumn.accessor((a) => a.schedule.name, {
        id: 'schedule',
        header: () => t('keyCard.scheduleAndInterval'),
        cell: (c) => {
          const hours = c.row.original.effectiveExtensionIntervalHours;
          return (
            <>
              <Text size="sm">{c.getValue()}</Text>
              {hours != null && (
                <Text size="xs" c="dimmed">
                  {t('keyCard.revalidateEvery', { count: hours })}
                </Text>
              )}
            </>
          );
        },
      }),
      authColumn.accessor('programmed', {
        header: () => t('keyCard.programmedState'),
        cell: (c) => (
          <Badge variant="dot" color={c.getValue() ? 'green' : 'yellow'}>
            {t(c.getValue() ? 'keyCard.programmed' : 'keyCard.waiting')}
          </Badge>
        ),
      }),
    ],
    [t],
  );
  const table = useClientPagedTable(rows, columns, AUTHORIZATIONS_PAGE_SIZE);
  return (
    <Section
      id="key-authorizations"
      title={t('keyCard.authorizations')}
      extra={
        <Text size="sm" aria-live="polite">
          {rows.length ? t('keyCard.programmedCount', { programmed, count: rows.length }) : ''}
        </Text>
      }
    >
      {keyData.status === 'LOST' && <Text size="sm">{t('keyCard.lostAuthorizations')}</Text>}
      <DataTable
        table={table}
        caption={t('keyCard.authorizations')}
        empty={t('keyCard.noAuthorizations')}
        minWidth={520}
      />
      <Pager controls={tableControls(table)} label={t('keyCard.authorizations')} />
    </Section>
  );
}

const KeyRemoteJobsDocument = graphql(`
  query KeyRemoteJobs($id: ID!, $first: Int, $after: String) {
    node(id: $id) {
      __typename
      ... on Key {
        id
        remoteJobs(first: $first, after: $after) {
          totalCount
          pageInfo {
            hasNextPage
            endCursor
          }
          edges {
            node {
              id
              kind
              status
              createdAt
              completedAt
              deliveredVia {
                name
              }
            }
          }
        }
      }
    }
  }
`);

type RemoteJobRow = Extract<NonNullable<KeyRemoteJobsQuery['node']>, { __typename: 'Key' }>['remoteJobs']['edges'][number]['node'];
const remoteColumn = createColumnHelper<RemoteJobRow>();

const REMOTE_STATUS_COLOR: Record<string, string> = {
  PENDING: 'yellow',
  DELIVERED: 'blue',
  DONE: 'green',
  FAILED: 'red',
  CANCELLED: 'gray',
};

/** The key's remote jobs (R18): what waits for it at a wall or mobile programming device. */
export function KeyRemoteJobsSection({ keyId, version }: { keyId: string; version: number }) {
  const { t } = useTranslation();
  const formats = useFormats();
  const pager = useCursorPager();
  const [{ data, error }, reexecute] = useQuery({
    query: KeyRemoteJobsDocument,
    variables: { id: keyId, first: SECTION_PAGE_SIZE, after: pager.after },
  });
  useRefetchOn(version, reexecute);
  const jobs = data?.node?.__typename === 'Key' ? data.node.remoteJobs : undefined;
  const columns = useMemo(
    () => [
      remoteColumn.accessor('kind', { header: () => t('remoteJobs.kind'), cell: (c) => t(`remoteJobKind.${c.getValue()}`) }),
      remoteColumn.accessor('status', {
        header: () => t('jobs.status'),
        cell: (c) => (
          <Badge variant="dot" color={REMOTE_STATUS_COLOR[c.getValue()]}>
            {t(`remoteJobStatus.${c.getValue()}`)}
          </Badge>
        ),
      }),
      remoteColumn.accessor((j) => j.deliveredVia?.name ?? '', { id: 'via', header: () => t('remoteJobs.via') }),
      remoteColumn.accessor('createdAt', { header: () => t('jobs.createdAt'), cell: (c) => formats.dateTime(c.getValue()) }),
      remoteColumn.accessor('completedAt', {
        header: () => t('remoteJobs.completedAt'),
        cell: (c) => (c.getValue() ? formats.dateTime(c.getValue()!) : ''),
      }),
    ],
    [t, formats],
  );
  const rows = useMemo(() => jobs?.edges.map((e) => e.node) ?? [], [jobs]);
  const table = useReactTable({ data: rows, columns, getCoreRowModel: getCoreRowModel(), getRowId: (j) => j.id });
  return (
    <Section
      id="key-remote-jobs"
      title={t('keyCard.remoteJobs')}
      extra={jobs && <Text size="sm">{t('jobs.count', { count: jobs.totalCount, n: formats.number(jobs.totalCount) })}</Text>}
    >
      <RequestError error={error} />
      <DataTable
        table={table}
        caption={t('keyCard.remoteJobs')}
        empty={jobs ? t('keyCard.noRemoteJobs') : t('app.loading')}
        minWidth={560}
      />
      <Pager controls={cursorControls(pager, jobs?.pageInfo)} label={t('keyCard.remoteJobs')} />
    </Section>
  );
}

const KeyBlockingListDocument = graphql(`
  query KeyBlockingList {
    blockingList {
      version
      issuedAt
      validUntil
      keyUids
    }
  }
`);

/** A lost key on the key blocking list (R19, R21): which version holds it, how long that list
 * is valid, and how full it is (a cylinder holds at most 3,000 keys, R11). */
export function BlockingListSection({ uid, version }: { uid: string; version: number }) {
  const { t } = useTranslation();
  const formats = useFormats();
  const [{ data, error }, reexecute] = useQuery({ query: KeyBlockingListDocument, requestPolicy: 'cache-and-network' });
  useRefetchOn(version, reexecute);
  const list = data?.blockingList;
  const listed = list?.keyUids.includes(uid) ?? false;
  return (
    <Section id="key-blocking-list" title={t('blockingList.title')}>
      <RequestError error={error} />
      {list && (
        <Alert color={listed ? 'red' : 'yellow'} variant="light">
          <Text size="sm">
            {t(listed ? 'blockingList.listed' : 'blockingList.notListed', {
              version: formats.number(list.version),
              issued: formats.dateTime(list.issuedAt),
            })}
          </Text>
          <Text size="sm">
            {t('blockingList.size', { count: list.keyUids.length, n: formats.number(list.keyUids.length) })}{' '}
            {list.validUntil ? t('blockingList.validUntil', { date: formats.dateTime(list.validUntil) }) : ''}
          </Text>
        </Alert>
      )}
    </Section>
  );
}
