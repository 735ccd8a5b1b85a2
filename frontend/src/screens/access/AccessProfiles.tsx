import { Alert, Stack, Text } from '@mantine/core';
import { createColumnHelper, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { ProgrammingJobsTable } from '../../components/ProgrammingJobsTable';
import { actionsColumn, EditableList } from '../../components/RowEditing';
import { graphql } from '../../gql';
import type { AccessProfileRowFragment, DeleteAccessProfileMutation } from '../../gql/graphql';
import { useEditing } from '../../hooks/useEditing';
import { useFormats } from '../../hooks/useFormats';
import { useSession } from '../../session';
import { AccessProfileForm, type AccessProfileOutcome } from './AccessProfileForm';

const AccessProfilesDocument = graphql(`
  query AccessProfiles {
    accessProfiles {
      ...AccessProfileRow
    }
  }
`);

const DeleteAccessProfileDocument = graphql(`
  mutation DeleteAccessProfile($input: DeleteInput!) {
    deleteAccessProfile(input: $input) {
      deletedId
      errors {
        field
        code
        message
      }
    }
  }
`);

const deletedOf = (data: DeleteAccessProfileMutation) => data.deleteAccessProfile;
const column = createColumnHelper<AccessProfileRowFragment>();
/** How many of a profile's cylinders the list names; the rest are counted. */
const NAMED_CYLINDERS = 6;

/** What saving a profile did: the programming jobs its cylinders got (R13, R15). */
function ProfileOutcomeView({ outcome }: { outcome: AccessProfileOutcome }) {
  const { t } = useTranslation();
  return (
    <Stack gap="sm">
      <Alert
        color="green"
        variant="light"
        role="status"
        title={t('accessProfiles.saved', { name: outcome.accessProfile?.name })}
      >
        <Text size="sm">{t('outcome.programmingJobs', { count: outcome.programmingJobs.length })}</Text>
      </Alert>
      {outcome.programmingJobs.length > 0 && (
        <ProgrammingJobsTable jobs={outcome.programmingJobs} caption={t('outcome.jobsTable')} empty="" />
      )}
    </Stack>
  );
}


/** The access profiles (R13, R14): cylinders, schedule and interval of each; create, edit and
 * delete, with the programming jobs a change makes (R15). */
export function AccessProfiles() {
  const { t } = useTranslation();
  const formats = useFormats();
  const { viewer } = useSession();
  const canWrite = viewer?.myRights.includes('access.write') ?? false;
  const [{ data, error, fetching }, reexecute] = useQuery({ query: AccessProfilesDocument });
  const change = useEditing<AccessProfileRowFragment, AccessProfileOutcome>(() => reexecute({ requestPolicy: 'network-only' }));

  const columns = useMemo(
    () => [
      column.accessor('name', { header: () => t('accessProfiles.name') }),
      column.accessor((p) => p.schedule.name, { id: 'schedule', header: () => t('accessProfiles.schedule') }),
      column.accessor('cylinders', {
        header: () => t('accessProfiles.cylinders'),
        cell: (c) => {
          const all = c.getValue();
          const named = all.slice(0, NAMED_CYLINDERS).map((x) => x.marking).join(', ');
          const more = all.length - NAMED_CYLINDERS;
          return (
            <Text size="sm">
              {all.length ? named : t('accessProfiles.noCylinders')}
              {more > 0 && ` ${t('accessProfiles.more', { count: more, n: formats.number(more) })}`}
            </Text>
          );
        },
      }),
      column.accessor('extensionIntervalHours', {
        header: () => t('accessProfiles.interval'),
        cell: (c) => {
          const hours = c.getValue();
          return hours == null ? t('accessProfiles.keysOwn') : t('keyCard.hours', { count: hours });
        },
      }),
      ...actionsColumn<AccessProfileRowFragment>(
        canWrite,
        change,
        t('schedules.actions'),
        (name) => t('accessProfiles.editNamed', { name }),
        (name) => t('accessProfiles.deleteNamed', { name }),
      ),
    ],
    [t, formats, canWrite, change.edit, change.askDelete],
  );
  const rows = useMemo(() => data?.accessProfiles ?? [], [data]);
  const table = useReactTable({ data: rows, columns, getCoreRowModel: getCoreRowModel(), getRowId: (r) => r.id });

  return (
    <EditableList
      title={t('accessProfiles.title')}
      newLabel={t('accessProfiles.new')}
      canWrite={canWrite}
      change={change}
      error={error}
      outcomeView={change.outcome && <ProfileOutcomeView outcome={change.outcome} />}
      table={table}
      caption={t('accessProfiles.table')}
      empty={data ? t('accessProfiles.empty') : null}
      busy={fetching}
      minWidth={640}
      formTitle={(row) => (row ? t('accessProfiles.editTitle', { name: row.name }) : t('accessProfiles.newTitle'))}
      formSize="lg"
      form={(row) => <AccessProfileForm profile={row} onCancel={change.closeForm} onDone={change.saved} />}
      deleteDocument={DeleteAccessProfileDocument}
      deletedOf={deletedOf}
    />
  );
}
