import { createColumnHelper, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { actionsColumn, EditableList } from '../../components/RowEditing';
import { MarkingList, SavedOutcome } from '../../components/SavedOutcome';
import { graphql } from '../../gql';
import type { AccessProfileRowFragment, DeleteAccessProfileMutation } from '../../gql/graphql';
import { useEditing } from '../../hooks/useEditing';
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

/** The access profiles (R13, R14): cylinders, schedule and interval of each; create, edit and
 * delete, with the programming jobs a change makes (R15). */
export function AccessProfiles() {
  const { t } = useTranslation();
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
        cell: (c) => (
          <MarkingList markings={c.getValue().map((x) => x.marking)} empty={t('accessProfiles.noCylinders')} />
        ),
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
    [t, canWrite, change.edit, change.askDelete],
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
      outcomeView={
        change.outcome && (
          <SavedOutcome
            title={t('accessProfiles.saved', { name: change.outcome.accessProfile?.name })}
            programmingJobs={change.outcome.programmingJobs}
          />
        )
      }
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
