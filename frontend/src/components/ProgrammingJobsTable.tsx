import { Badge, Checkbox, Stack, Text } from '@mantine/core';
import { createColumnHelper, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';

import { graphql } from '../gql';
import type { ProgrammingJobRowFragment } from '../gql/graphql';
import { useFormats } from '../hooks/useFormats';
import { CylinderLink } from './CylinderLink';
import { DataTable } from './DataTable';

/** What a programming job shows in a list: its cylinder, the changes it carries (R15), who
 * carries it out (R17) and since when. */
export const ProgrammingJobRow = graphql(`
  fragment ProgrammingJobRow on ProgrammingJob {
    id
    status
    createdAt
    cylinder {
      id
      marking
      securityRelevant
    }
    changes {
      op
      key {
        id
        marking
      }
      group {
        id
        name
      }
      cylinderGroup {
        id
        name
      }
    }
    assignee {
      marking
    }
  }
`);

export const JOB_STATUS_COLOR: Record<string, string> = {
  PENDING: 'yellow',
  ASSIGNED: 'blue',
  ON_KEY: 'indigo',
  DONE: 'green',
  FAILED: 'red',
  CANCELLED: 'gray',
};

/** Programming jobs that are still to be carried out at their cylinder (R15). */
export const OPEN_JOB_STATUSES = ['PENDING', 'ASSIGNED', 'ON_KEY'] as const;

type Change = ProgrammingJobRowFragment['changes'][number];

function ChangeText({ change }: { change: Change }) {
  const { t } = useTranslation();
  const what = change.key
    ? change.key.marking
    : change.group
      ? t('jobs.keyGroup', { name: change.group.name })
      : change.cylinderGroup
        ? t('jobs.cylinderGroup', { name: change.cylinderGroup.name })
        : t('jobs.hidden');
  return (
    // One change a line: "Add K-0013" is not broken inside the marking.
    <Text size="sm" span style={{ whiteSpace: 'nowrap' }}>
      {t(`accessChangeOp.${change.op}`)} {what}
    </Text>
  );
}

const column = createColumnHelper<ProgrammingJobRowFragment>();

function chooseColumn(
  selection: JobSelection,
  jobs: readonly ProgrammingJobRowFragment[],
  t: (key: string, options?: Record<string, unknown>) => string,
) {
  const choosable = jobs.filter(selection.canChoose);
  const onPage = choosable.filter((j) => selection.chosen.has(j.id)).length;
  return column.display({
    id: 'select',
    header: () => (
      <Checkbox
        aria-label={t('jobs.selectPage')}
        checked={choosable.length > 0 && onPage === choosable.length}
        indeterminate={onPage > 0 && onPage < choosable.length}
        disabled={choosable.length === 0}
        onChange={(e) => selection.toggle(choosable, e.currentTarget.checked)}
      />
    ),
    cell: (c) =>
      selection.canChoose(c.row.original) ? (
        <Checkbox
          aria-label={t('jobs.select', { marking: c.row.original.cylinder.marking })}
          checked={selection.chosen.has(c.row.original.id)}
          onChange={(e) => selection.toggle([c.row.original], e.currentTarget.checked)}
        />
      ) : null,
  });
}

/** Jobs chosen in a list (to assign them, R17): which are chosen, which may be, and the change. */
export interface JobSelection {
  chosen: ReadonlySet<string>;
  canChoose: (job: ProgrammingJobRowFragment) => boolean;
  toggle: (jobs: readonly ProgrammingJobRowFragment[], on: boolean) => void;
}

/** A page of programming jobs; ``withCylinder`` false on a cylinder's own card; with
 * ``selection`` each job that may be chosen has a checkbox. */
export function ProgrammingJobsTable({
  jobs,
  caption,
  empty,
  withCylinder = true,
  selection,
  busy = false,
}: {
  jobs: readonly ProgrammingJobRowFragment[];
  caption: string;
  empty: string;
  withCylinder?: boolean;
  selection?: JobSelection;
  busy?: boolean;
}) {
  const { t } = useTranslation();
  const formats = useFormats();
  const columns = useMemo(
    () => [
      ...(selection ? [chooseColumn(selection, jobs, t)] : []),
      ...(withCylinder
        ? [
            column.accessor((j) => j.cylinder.marking, {
              id: 'cylinder',
              header: () => t('jobs.cylinder'),
              cell: (c) => <CylinderLink cylinder={c.row.original.cylinder} />,
            }),
          ]
        : []),
      column.accessor('changes', {
        header: () => t('jobs.changes'),
        cell: (c) => (
          <Stack gap={0}>
            {c.getValue().map((change, i) => (
              <ChangeText key={i} change={change} />
            ))}
          </Stack>
        ),
      }),
      column.accessor('status', {
        header: () => t('jobs.status'),
        cell: (c) => (
          <Badge variant="dot" color={JOB_STATUS_COLOR[c.getValue()]}>
            {t(`jobStatus.${c.getValue()}`)}
          </Badge>
        ),
      }),
      column.accessor((j) => j.assignee?.marking ?? '', { id: 'assignee', header: () => t('jobs.assignee') }),
      column.accessor('createdAt', {
        header: () => t('jobs.createdAt'),
        cell: (c) => formats.dateTime(c.getValue()),
      }),
    ],
    [t, formats, withCylinder, selection, jobs],
  );
  const data = useMemo(() => [...jobs], [jobs]);
  const table = useReactTable({ data, columns, getCoreRowModel: getCoreRowModel(), getRowId: (j) => j.id });
  return <DataTable table={table} caption={caption} empty={empty} minWidth={560} busy={busy} />;
}
