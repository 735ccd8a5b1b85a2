import { createColumnHelper, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { actionsColumn, EditableList } from '../../components/RowEditing';
import { MarkingList, SavedOutcome } from '../../components/SavedOutcome';
import { graphql } from '../../gql';
import type { CylinderGroupRowFragment, DeleteCylinderGroupMutation } from '../../gql/graphql';
import { useEditing } from '../../hooks/useEditing';
import { useSession } from '../../session';
import { CylinderGroupForm, type CylinderGroupOutcome } from './CylinderGroupForm';

const CylinderGroupsDocument = graphql(`
  query CylinderGroups {
    cylinderGroups {
      ...CylinderGroupRow
    }
  }
`);

const DeleteCylinderGroupDocument = graphql(`
  mutation DeleteCylinderGroup($input: DeleteInput!) {
    deleteCylinderGroup(input: $input) {
      deletedId
      errors {
        field
        code
        message
      }
    }
  }
`);

const deletedOf = (data: DeleteCylinderGroupMutation) => data.deleteCylinderGroup;
const column = createColumnHelper<CylinderGroupRowFragment>();

/** The cylinder groups (R13): cylinders an E3 key holds in one slot; create, edit the cylinders
 * (each one joining or leaving gets its programming job, R15), delete (CONFLICT while keys hold
 * the group or cylinders still know it). */
export function CylinderGroups() {
  const { t } = useTranslation();
  const { viewer } = useSession();
  const canWrite = viewer?.myRights.includes('access.write') ?? false;
  const [{ data, error, fetching }, reexecute] = useQuery({ query: CylinderGroupsDocument });
  const change = useEditing<CylinderGroupRowFragment, CylinderGroupOutcome>(() =>
    reexecute({ requestPolicy: 'network-only' }),
  );
  const columns = useMemo(
    () => [
      column.accessor('name', { header: () => t('cylinderGroups.name') }),
      column.accessor('cylinders', {
        header: () => t('cylinderGroups.cylinders'),
        cell: (c) => (
          <MarkingList markings={c.getValue().map((x) => x.marking)} empty={t('cylinderGroups.noCylinders')} />
        ),
      }),
      ...actionsColumn<CylinderGroupRowFragment>(
        canWrite,
        change,
        t('schedules.actions'),
        (name) => t('cylinderGroups.editNamed', { name }),
        (name) => t('cylinderGroups.deleteNamed', { name }),
      ),
    ],
    [t, canWrite, change.edit, change.askDelete],
  );
  const rows = useMemo(() => data?.cylinderGroups ?? [], [data]);
  const table = useReactTable({ data: rows, columns, getCoreRowModel: getCoreRowModel(), getRowId: (r) => r.id });

  return (
    <EditableList
      title={t('cylinderGroups.title')}
      newLabel={t('cylinderGroups.new')}
      canWrite={canWrite}
      change={change}
      error={error}
      outcomeView={
        change.outcome && (
          <SavedOutcome
            title={t('cylinderGroups.saved', { name: change.outcome.cylinderGroup?.name })}
            programmingJobs={change.outcome.programmingJobs}
          />
        )
      }
      table={table}
      caption={t('cylinderGroups.table')}
      empty={data ? t('cylinderGroups.empty') : null}
      busy={fetching}
      minWidth={520}
      formTitle={(row) => (row ? t('cylinderGroups.editTitle', { name: row.name }) : t('cylinderGroups.newTitle'))}
      form={(row) => <CylinderGroupForm group={row} onCancel={change.closeForm} onDone={change.saved} />}
      deleteDocument={DeleteCylinderGroupDocument}
      deletedOf={deletedOf}
    />
  );
}
