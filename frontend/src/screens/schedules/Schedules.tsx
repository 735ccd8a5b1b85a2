import { Alert, Button, Group, List, Modal, Stack, Text, Title } from '@mantine/core';
import { createColumnHelper, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { DataTable } from '../../components/DataTable';
import { DeleteDialog } from '../../components/DeleteDialog';
import { RequestError } from '../../components/Feedback';
import { graphql } from '../../gql';
import type { DeleteScheduleMutation, ScheduleRowFragment, Weekday } from '../../gql/graphql';
import { useSession } from '../../session';
import { ScheduleForm, type ScheduleOutcome } from './ScheduleForm';
import { weekRuns } from './scheduleModel';

const SchedulesDocument = graphql(`
  query Schedules {
    schedules {
      ...ScheduleRow
    }
  }
`);

const DeleteScheduleDocument = graphql(`
  mutation DeleteSchedule($input: DeleteInput!) {
    deleteSchedule(input: $input) {
      deletedId
      errors {
        field
        code
        message
      }
    }
  }
`);

const deletedOf = (data: DeleteScheduleMutation) => data.deleteSchedule;
const column = createColumnHelper<ScheduleRowFragment>();

/** The week of a schedule, a line per run of days with the same times: "Mon–Fri 07:00–19:00". */
function WeekSummary({ schedule }: { schedule: ScheduleRowFragment }) {
  const { t } = useTranslation();
  const runs = weekRuns(schedule.windows);
  if (!runs.length) return <Text size="sm">{t('schedules.never')}</Text>;
  const day = (d: Weekday) => <abbr title={t(`weekday.${d}`)}>{t(`weekdayShort.${d}`)}</abbr>;
  return (
    <Stack gap={0}>
      {runs.map((run) => (
        <Text key={run.from} size="sm">
          {day(run.from)}
          {run.to !== run.from && <>–{day(run.to)}</>} {run.times.join(', ')}
        </Text>
      ))}
    </Stack>
  );
}

/** What saving a schedule did: keys that carry it get its windows (R12), those waiting at a
 * remote device as remote jobs (R18). */
function ScheduleOutcomeView({ outcome }: { outcome: ScheduleOutcome }) {
  const { t } = useTranslation();
  const jobs = outcome.remoteJobs;
  return (
    <Alert color="green" variant="light" role="status" title={t('schedules.saved', { name: outcome.schedule?.name })}>
      <Text size="sm">{t('schedules.remoteJobs', { count: jobs.length })}</Text>
      {jobs.length > 0 && (
        <List size="sm" aria-label={t('schedules.remoteJobsList')}>
          {jobs.map((j) => (
            <List.Item key={j.id}>
              {j.key.marking}: {t(`remoteJobKind.${j.kind}`)} · {t(`remoteJobStatus.${j.status}`)}
            </List.Item>
          ))}
        </List>
      )}
    </Alert>
  );
}

type Editing = { schedule: ScheduleRowFragment | null } | null;

/** The schedules (R12): the week of each, create and edit in the weekly grid, delete. */
export function Schedules() {
  const { t } = useTranslation();
  const { viewer } = useSession();
  const canWrite = viewer?.myRights.includes('access.write') ?? false;
  const [{ data, error, fetching }, reexecute] = useQuery({ query: SchedulesDocument });
  const [editing, setEditing] = useState<Editing>(null);
  const [deleting, setDeleting] = useState<ScheduleRowFragment | null>(null);
  const [outcome, setOutcome] = useState<ScheduleOutcome | null>(null);
  const [deleted, setDeleted] = useState<string | null>(null);

  const columns = useMemo(
    () => [
      column.accessor('name', { header: () => t('schedules.name') }),
      column.display({
        id: 'week',
        header: () => t('schedules.week'),
        cell: (c) => <WeekSummary schedule={c.row.original} />,
      }),
      ...(canWrite
        ? [
            column.display({
              id: 'actions',
              header: () => t('schedules.actions'),
              cell: (c) => (
                <Group gap="xs" wrap="nowrap">
                  <Button
                    size="xs"
                    variant="default"
                    onClick={() => setEditing({ schedule: c.row.original })}
                    aria-label={t('schedules.editNamed', { name: c.row.original.name })}
                  >
                    {t('schedules.edit')}
                  </Button>
                  <Button
                    size="xs"
                    variant="outline"
                    color="red.9"
                    onClick={() => setDeleting(c.row.original)}
                    aria-label={t('schedules.deleteNamed', { name: c.row.original.name })}
                  >
                    {t('schedules.delete')}
                  </Button>
                </Group>
              ),
            }),
          ]
        : []),
    ],
    [t, canWrite],
  );
  const rows = useMemo(() => data?.schedules ?? [], [data]);
  const table = useReactTable({ data: rows, columns, getCoreRowModel: getCoreRowModel(), getRowId: (r) => r.id });

  function refresh() {
    reexecute({ requestPolicy: 'network-only' });
  }

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{t('schedules.title')}</Title>
        {canWrite && (
          <Button onClick={() => setEditing({ schedule: null })}>{t('schedules.new')}</Button>
        )}
      </Group>
      <RequestError error={error} />
      {outcome && <ScheduleOutcomeView outcome={outcome} />}
      {deleted && (
        <Alert color="green" variant="light" role="status">
          {t('delete.done', { name: deleted })}
        </Alert>
      )}
      <DataTable
        table={table}
        caption={t('schedules.table')}
        empty={data ? t('schedules.empty') : null}
        busy={fetching}
        minWidth={520}
      />
      <Modal
        opened={editing !== null}
        onClose={() => setEditing(null)}
        size="xl"
        closeButtonProps={{ 'aria-label': t('actions.close') }}
        title={editing?.schedule ? t('schedules.editTitle', { name: editing.schedule.name }) : t('schedules.newTitle')}
      >
        {editing && (
          <ScheduleForm
            schedule={editing.schedule}
            onCancel={() => setEditing(null)}
            onDone={(done) => {
              setEditing(null);
              setDeleted(null);
              setOutcome(done);
              refresh();
            }}
          />
        )}
      </Modal>
      <DeleteDialog
        name={deleting?.name ?? null}
        id={deleting?.id ?? ''}
        document={DeleteScheduleDocument}
        payloadOf={deletedOf}
        onClose={() => setDeleting(null)}
        onDeleted={() => {
          setDeleted(deleting?.name ?? null);
          setOutcome(null);
          setDeleting(null);
          refresh();
        }}
      />
    </Stack>
  );
}
