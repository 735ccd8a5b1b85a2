import { Alert, List, Stack, Text } from '@mantine/core';
import { createColumnHelper, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { actionsColumn, EditableList } from '../../components/RowEditing';
import { graphql } from '../../gql';
import type { DeleteScheduleMutation, ScheduleRowFragment, Weekday } from '../../gql/graphql';
import { useEditing } from '../../hooks/useEditing';
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


/** The schedules (R12): the week of each, create and edit in the weekly grid, delete. */
export function Schedules() {
  const { t } = useTranslation();
  const { viewer } = useSession();
  const canWrite = viewer?.myRights.includes('access.write') ?? false;
  const [{ data, error, fetching }, reexecute] = useQuery({ query: SchedulesDocument });
  const change = useEditing<ScheduleRowFragment, ScheduleOutcome>(() => reexecute({ requestPolicy: 'network-only' }));

  const columns = useMemo(
    () => [
      column.accessor('name', { header: () => t('schedules.name') }),
      column.display({
        id: 'week',
        header: () => t('schedules.week'),
        cell: (c) => <WeekSummary schedule={c.row.original} />,
      }),
      ...actionsColumn<ScheduleRowFragment>(
        canWrite,
        change,
        t('schedules.actions'),
        (name) => t('schedules.editNamed', { name }),
        (name) => t('schedules.deleteNamed', { name }),
      ),
    ],
    [t, canWrite, change.edit, change.askDelete],
  );
  const rows = useMemo(() => data?.schedules ?? [], [data]);
  const table = useReactTable({ data: rows, columns, getCoreRowModel: getCoreRowModel(), getRowId: (r) => r.id });

  return (
    <EditableList
      title={t('schedules.title')}
      newLabel={t('schedules.new')}
      canWrite={canWrite}
      change={change}
      error={error}
      outcomeView={change.outcome && <ScheduleOutcomeView outcome={change.outcome} />}
      table={table}
      caption={t('schedules.table')}
      empty={data ? t('schedules.empty') : null}
      busy={fetching}
      minWidth={520}
      formTitle={(row) => (row ? t('schedules.editTitle', { name: row.name }) : t('schedules.newTitle'))}
      formSize="xl"
      form={(row) => <ScheduleForm schedule={row} onCancel={change.closeForm} onDone={change.saved} />}
      deleteDocument={DeleteScheduleDocument}
      deletedOf={deletedOf}
    />
  );
}
