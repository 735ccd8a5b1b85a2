import { Text } from '@mantine/core';
import { createColumnHelper, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { actionsColumn, EditableList } from '../../components/RowEditing';
import { SavedOutcome } from '../../components/SavedOutcome';
import { graphql } from '../../gql';
import type { DeleteKeyGroupMutation, KeyGroupRowFragment } from '../../gql/graphql';
import { useEditing } from '../../hooks/useEditing';
import { useSession } from '../../session';
import { KeyGroupForm, type KeyGroupOutcome } from './KeyGroupForm';

const KeyGroupsDocument = graphql(`
  query KeyGroups {
    keyGroups {
      ...KeyGroupRow
    }
  }
`);

const DeleteKeyGroupDocument = graphql(`
  mutation DeleteKeyGroup($input: DeleteInput!) {
    deleteKeyGroup(input: $input) {
      deletedId
      errors {
        field
        code
        message
      }
    }
  }
`);

const deletedOf = (data: DeleteKeyGroupMutation) => data.deleteKeyGroup;
const column = createColumnHelper<KeyGroupRowFragment>();

/** The key groups (R13): E3 keys that cylinders authorise as one; create, edit the members,
 * delete (CONFLICT while cylinders hold the group). */
export function KeyGroups() {
  const { t } = useTranslation();
  const { viewer } = useSession();
  const canWrite = viewer?.myRights.includes('access.write') ?? false;
  const [{ data, error, fetching }, reexecute] = useQuery({ query: KeyGroupsDocument });
  const change = useEditing<KeyGroupRowFragment, KeyGroupOutcome>(() => reexecute({ requestPolicy: 'network-only' }));
  const columns = useMemo(
    () => [
      column.accessor('name', { header: () => t('keyGroups.name') }),
      column.accessor('keys', {
        header: () => t('keyGroups.keys'),
        cell: (c) => (
          <Text size="sm">
            {c.getValue().length ? c.getValue().map((k) => k.marking).join(', ') : t('keyGroups.noKeys')}
          </Text>
        ),
      }),
      ...actionsColumn<KeyGroupRowFragment>(
        canWrite,
        change,
        t('schedules.actions'),
        (name) => t('keyGroups.editNamed', { name }),
        (name) => t('keyGroups.deleteNamed', { name }),
      ),
    ],
    [t, canWrite, change.edit, change.askDelete],
  );
  const rows = useMemo(() => data?.keyGroups ?? [], [data]);
  const table = useReactTable({ data: rows, columns, getCoreRowModel: getCoreRowModel(), getRowId: (r) => r.id });

  return (
    <EditableList
      title={t('keyGroups.title')}
      newLabel={t('keyGroups.new')}
      canWrite={canWrite}
      change={change}
      error={error}
      outcomeView={
        change.outcome && (
          <SavedOutcome
            title={t('keyGroups.saved', { name: change.outcome.keyGroup?.name })}
            programmingJobs={change.outcome.programmingJobs}
            remoteJobs={change.outcome.remoteJobs}
          />
        )
      }
      table={table}
      caption={t('keyGroups.table')}
      empty={data ? t('keyGroups.empty') : null}
      busy={fetching}
      minWidth={520}
      formTitle={(row) => (row ? t('keyGroups.editTitle', { name: row.name }) : t('keyGroups.newTitle'))}
      form={(row) => <KeyGroupForm group={row} onCancel={change.closeForm} onDone={change.saved} />}
      deleteDocument={DeleteKeyGroupDocument}
      deletedOf={deletedOf}
    />
  );
}
