import { Anchor, Button, Group, List, Paper, Progress, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { createColumnHelper, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useQuery } from 'urql';

import { DataTable } from '../../components/DataTable';
import { RequestError } from '../../components/Feedback';
import { Section } from '../../components/Section';
import { graphql } from '../../gql';
import type { DashboardQuery } from '../../gql/graphql';
import { useFormats } from '../../hooks/useFormats';
import { AuditChart } from './AuditChart';

const DashboardDocument = graphql(`
  query Dashboard {
    dashboard {
      keyCount
      cylinderCount
      employeeCount
      offlineDevices
      waitingJobs {
        domain {
          id
          name
        }
        waiting
      }
      expiringKeys {
        count
        first {
          id
          marking
          validity {
            validUntil
          }
        }
      }
      blockingList {
        keys
        limit
        warnAt
      }
      auditEventsPerDay {
        day
        events
      }
    }
  }
`);

type Board = DashboardQuery['dashboard'];
type WaitingRow = NonNullable<Board['waitingJobs']>[number];
const column = createColumnHelper<WaitingRow>();

/** The dashboard (issue 12 item 1): the server's counts at a glance, each part shown only when
 * the caller may read it (the server answers null otherwise). Loaded when opened and when the
 * user asks: no polling. */
export function Dashboard() {
  const { t } = useTranslation();
  const [{ data, error, fetching }, reexecute] = useQuery({
    query: DashboardDocument,
    requestPolicy: 'network-only',
  });
  const board = data?.dashboard;
  return (
    <Stack gap="md">
      <Group justify="space-between" align="center">
        <Title order={2}>{t('dashboard.title')}</Title>
        <Button variant="default" onClick={() => reexecute({ requestPolicy: 'network-only' })} loading={fetching}>
          {t('dashboard.refresh')}
        </Button>
      </Group>
      <RequestError error={error} />
      {board && <Figures board={board} />}
    </Stack>
  );
}

function Figures({ board }: { board: Board }) {
  const { t } = useTranslation();
  const counts = [
    { id: 'keys', value: board.keyCount, to: '/keys' },
    { id: 'cylinders', value: board.cylinderCount, to: '/cylinders' },
    { id: 'employees', value: board.employeeCount, to: '/employees' },
    { id: 'offlineDevices', value: board.offlineDevices, to: null },
  ];
  return (
    <>
      <SimpleGrid cols={{ base: 2, md: 4 }} spacing="md">
        {counts.map(
          (c) => c.value != null && <Count key={c.id} id={c.id} value={c.value} to={c.to} label={t(`dashboard.${c.id}`)} />,
        )}
      </SimpleGrid>
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="md">
        {board.waitingJobs && <WaitingJobs rows={board.waitingJobs} />}
        {board.expiringKeys && <ExpiringKeys expiring={board.expiringKeys} />}
        {board.blockingList && <BlockingListFill fill={board.blockingList} />}
      </SimpleGrid>
      {board.auditEventsPerDay && (
        <Section id="dashboard-audit" title={t('dashboard.auditTitle')}>
          <AuditChart days={board.auditEventsPerDay} />
        </Section>
      )}
    </>
  );
}

function Count({ id, label, value, to }: { id: string; label: string; value: number; to: string | null }) {
  const formats = useFormats();
  const { t } = useTranslation();
  return (
    <Paper withBorder p="md" component="section" aria-labelledby={`count-${id}`}>
      <Text size="sm" c="gray.7" id={`count-${id}`}>
        {label}
      </Text>
      <Text fz={32} fw={700} lh={1.2} data-testid={`count-${id}`}>
        {formats.number(value)}
      </Text>
      {to && (
        <Anchor component={Link} to={to} size="sm">
          {t('dashboard.show', { what: label })}
        </Anchor>
      )}
    </Paper>
  );
}

function WaitingJobs({ rows }: { rows: readonly WaitingRow[] }) {
  const { t } = useTranslation();
  const formats = useFormats();
  const total = rows.reduce((sum, r) => sum + r.waiting, 0);
  const columns = useMemo(
    () => [
      column.accessor((r) => r.domain.name, { id: 'domain', header: () => t('dashboard.domain') }),
      column.accessor('waiting', {
        header: () => t('dashboard.waiting'),
        cell: (c) => formats.number(c.getValue()),
      }),
    ],
    [t, formats],
  );
  const table = useReactTable({
    data: useMemo(() => [...rows], [rows]),
    columns,
    getCoreRowModel: getCoreRowModel(),
    getRowId: (r) => r.domain.id,
  });
  return (
    <Section
      id="dashboard-jobs"
      title={t('dashboard.jobsTitle')}
      extra={
        <Anchor component={Link} to="/jobs" size="sm">
          {t('dashboard.jobsTotal', { count: total, n: formats.number(total) })}
        </Anchor>
      }
    >
      <DataTable table={table} caption={t('dashboard.jobsTable')} empty={t('dashboard.noJobs')} minWidth={280} />
    </Section>
  );
}

function ExpiringKeys({ expiring }: { expiring: NonNullable<Board['expiringKeys']> }) {
  const { t } = useTranslation();
  const formats = useFormats();
  const more = expiring.count - expiring.first.length;
  return (
    <Section id="dashboard-expiring" title={t('dashboard.expiringTitle')}>
      <Text size="sm">
        {expiring.count === 0
          ? t('dashboard.expiringNone')
          : t('dashboard.expiringCount', { count: expiring.count, n: formats.number(expiring.count) })}
      </Text>
      {expiring.first.length > 0 && (
        <List size="sm" spacing={4}>
          {expiring.first.map((k) => (
            <List.Item key={k.id}>
              <Anchor component={Link} to={`/keys/${k.id}`}>
                {k.marking}
              </Anchor>{' '}
              {k.validity.validUntil && t('dashboard.endsAt', { at: formats.dateTime(k.validity.validUntil) })}
            </List.Item>
          ))}
        </List>
      )}
      {more > 0 && <Text size="sm">{t('dashboard.expiringMore', { count: more, n: formats.number(more) })}</Text>}
    </Section>
  );
}

function BlockingListFill({ fill }: { fill: NonNullable<Board['blockingList']> }) {
  const { t } = useTranslation();
  const formats = useFormats();
  const text = t('dashboard.blockingFill', { keys: formats.number(fill.keys), limit: formats.number(fill.limit) });
  const color = fill.keys >= fill.limit ? 'red' : fill.keys >= fill.warnAt ? 'orange' : 'blue';
  return (
    <Section id="dashboard-blocking" title={t('dashboard.blockingTitle')}>
      <Text size="sm" id="blocking-fill">
        {text}
      </Text>
      <Progress.Root size="lg">
        {/* The bar's own aria names keys against the limit, not a percentage (R11). */}
        <Progress.Section
          value={Math.min(100, (fill.keys / fill.limit) * 100)}
          color={color}
          withAria={false}
          role="progressbar"
          aria-labelledby="blocking-fill"
          aria-valuemin={0}
          aria-valuemax={fill.limit}
          aria-valuenow={fill.keys}
          aria-valuetext={text}
        />
      </Progress.Root>
      {fill.keys >= fill.warnAt && (
        <Text size="sm" c="red.8">
          {t('dashboard.blockingWarn', { limit: formats.number(fill.limit) })}
        </Text>
      )}
    </Section>
  );
}
