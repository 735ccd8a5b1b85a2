import { Badge, Stack, Text, Title } from '@mantine/core';
import { createColumnHelper, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { DataTable } from '../components/DataTable';
import { graphql } from '../gql';
import type { AwaitingApprovalQuery } from '../gql/graphql';

const AwaitingApprovalDocument = graphql(`
  query AwaitingApproval {
    readoutRequests(status: [AWAITING_APPROVAL]) {
      id
      reason
      status
      requestedAt
      requestedBy {
        marking
      }
      target {
        id
        ... on Key {
          marking
        }
        ... on Cylinder {
          marking
        }
        ... on RemoteDevice {
          serial
        }
      }
    }
  }
`);

type Request = AwaitingApprovalQuery['readoutRequests'][number];
const column = createColumnHelper<Request>();

function targetName(target: Request['target']): string {
  if ('marking' in target && target.marking) return target.marking;
  if ('serial' in target && target.serial) return target.serial;
  return target.id;
}

/** The approver's screen (R29): readout requests waiting for a decision. */
export function Approvals() {
  const { t, i18n } = useTranslation();
  const [{ data, error }] = useQuery({ query: AwaitingApprovalDocument });
  const times = useMemo(
    () => new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium', timeStyle: 'short' }),
    [i18n.language],
  );
  const columns = useMemo(
    () => [
      column.accessor((r) => targetName(r.target), { id: 'target', header: () => t('approvals.target') }),
      column.accessor('reason', { header: () => t('approvals.reason') }),
      column.accessor((r) => r.requestedBy.marking, { id: 'requestedBy', header: () => t('approvals.requestedBy') }),
      column.accessor('requestedAt', {
        header: () => t('approvals.requestedAt'),
        cell: (c) => times.format(new Date(c.getValue())),
      }),
      column.accessor('status', {
        header: () => t('approvals.status'),
        cell: (c) => <Badge variant="dot">{t(`readoutStatus.${c.getValue()}`)}</Badge>,
      }),
    ],
    [t, times],
  );
  const rows = useMemo(() => data?.readoutRequests ?? [], [data]);
  const table = useReactTable({ data: rows, columns, getCoreRowModel: getCoreRowModel(), getRowId: (r) => r.id });

  return (
    <Stack>
      <Title order={2}>{t('approvals.title')}</Title>
      {error && (
        <Text c="red" role="alert">
          {t('errors.unexpected', { message: error.message })}
        </Text>
      )}
      <DataTable table={table} caption={t('approvals.table')} empty={data ? t('approvals.empty') : null} />
    </Stack>
  );
}
