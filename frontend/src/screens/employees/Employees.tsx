import { Alert, Button, Group, Modal, Paper, Stack, Text, Title } from '@mantine/core';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { DataTable } from '../../components/DataTable';
import { FormError, RequestError } from '../../components/Feedback';
import { ListCount, SearchInput } from '../../components/ListControls';
import { cursorControls, Pager } from '../../components/Pager';
import { ProgrammingJobsTable } from '../../components/ProgrammingJobsTable';
import { graphql } from '../../gql';
import type { DeleteEmployeeMutation, EmployeeRowFragment } from '../../gql/graphql';
import { useFormats } from '../../hooks/useFormats';
import { usePayloadMutation } from '../../hooks/usePayloadMutation';
import { useServerList } from '../../hooks/useServerList';
import { useServerPagedTable } from '../../hooks/useTables';
import { useSession } from '../../session';
import { EmployeeForm, type EmployeeOutcome } from './EmployeeForm';
import { EmployeeImport } from './EmployeeImport';
import { displayName } from './employeeModel';

export const EMPLOYEE_PAGE_SIZE = 25;
/** The server's export in the import's columns (R30). */
export const EXPORT_URL = '/export/employees.csv';

const EmployeesPageDocument = graphql(`
  query EmployeesPage($search: String, $first: Int, $after: String) {
    employees(search: $search, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...EmployeeRow
        }
      }
    }
  }
`);

const DeleteEmployeeDocument = graphql(`
  mutation DeleteEmployee($input: EmployeeIdInput!) {
    deleteEmployee(input: $input) {
      deletedId
      errors {
        field
        code
        message
      }
    }
  }
`);

const deletedOf = (data: DeleteEmployeeMutation) => data.deleteEmployee;
const DELETE_FIELDS: string[] = [];

type Dialog = { kind: 'create' } | { kind: 'edit' | 'delete'; employee: EmployeeRowFragment } | { kind: 'import' };
const column = createColumnHelper<EmployeeRowFragment>();
const employeesFilter = (criteria: { search: string }) => criteria.search.trim() || null;

/** Deleting an employee: asked first; the server refuses while they hold keys (CONFLICT, R4),
 * and its message, naming the keys, stands in the dialog. */
function DeleteEmployee({
  employee,
  onDone,
  onCancel,
}: {
  employee: EmployeeRowFragment;
  onDone: (title: string) => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const remove = usePayloadMutation(DeleteEmployeeDocument, deletedOf, DELETE_FIELDS);
  const name = displayName(employee);
  async function confirm() {
    if (await remove.submit({ input: { employeeId: employee.id } })) onDone(t('employees.deleted', { name }));
  }
  return (
    <Stack>
      <Text size="sm">{t('employees.deleteQuestion', { name })}</Text>
      <FormError message={remove.errors['']} />
      <Group justify="flex-end">
        <Button variant="default" onClick={onCancel}>
          {t('actions.cancel')}
        </Button>
        <Button color="red" onClick={() => void confirm()} loading={remove.fetching}>
          {t('employees.delete')}
        </Button>
      </Group>
    </Stack>
  );
}

/** What the last change did: a line, and the programming jobs it made (R13, R15). */
function Done({ outcome, onClose }: { outcome: EmployeeOutcome; onClose: () => void }) {
  const { t } = useTranslation();
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="employee-outcome">
      <Stack gap="sm">
        <Alert color="green" variant="light" role="status" withCloseButton onClose={onClose}
          closeButtonLabel={t('actions.close')}>
          <Text fw={500} id="employee-outcome">
            {outcome.title}
          </Text>
          {outcome.programmingJobs.length > 0 && (
            <Text size="sm">{t('outcome.programmingJobs', { count: outcome.programmingJobs.length })}</Text>
          )}
        </Alert>
        {outcome.programmingJobs.length > 0 && (
          <ProgrammingJobsTable jobs={outcome.programmingJobs} caption={t('outcome.jobsTable')} empty="" />
        )}
      </Stack>
    </Paper>
  );
}

/** The employees (issue 11 item 4): paged by the server and searched as you type; create, change
 * (with the access profiles, R13), delete, import from CSV with a dry run first (R30), export. */
export function Employees() {
  const { t } = useTranslation();
  const formats = useFormats();
  const { viewer } = useSession();
  const writing = (viewer?.myRights ?? []).includes('employees.write');
  const [criteria, setCriteria] = useState({ search: '' });
  const { filter: search, pager } = useServerList(criteria, employeesFilter);
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [outcome, setOutcome] = useState<EmployeeOutcome | null>(null);
  const [{ data, fetching, error }, reexecute] = useQuery({
    query: EmployeesPageDocument,
    variables: { search, first: EMPLOYEE_PAGE_SIZE, after: pager.after },
  });
  const employees = data?.employees;
  const rows = useMemo(() => employees?.edges.map((e) => e.node) ?? [], [employees]);

  function finish(done: EmployeeOutcome) {
    setDialog(null);
    setOutcome(done);
    reexecute({ requestPolicy: 'network-only' });
  }

  const columns = useMemo(
    () => [
      column.accessor((e) => displayName(e), { id: 'name', header: () => t('employees.name') }),
      column.accessor((e) => e.employeeNumber ?? '', { id: 'number', header: () => t('employees.field.employeeNumber') }),
      column.accessor((e) => e.department ?? '', { id: 'department', header: () => t('employees.field.department') }),
      column.accessor((e) => e.email ?? '', { id: 'email', header: () => t('employees.field.email') }),
      column.accessor((e) => e.domain.name, { id: 'domain', header: () => t('keys.domain') }),
      column.accessor((e) => e.keys.length, {
        id: 'keys',
        header: () => t('employees.keys'),
        cell: (c) => formats.number(c.getValue()),
      }),
      column.accessor((e) => e.accessProfiles.map((p) => p.name).join(', '), {
        id: 'profiles',
        header: () => t('employees.field.accessProfiles'),
      }),
      ...(writing
        ? [
            column.display({
              id: 'actions',
              header: () => t('employees.actions'),
              cell: (c) => {
                const employee = c.row.original;
                const name = displayName(employee);
                return (
                  <Group gap={4} wrap="nowrap">
                    <Button size="compact-sm" variant="default" aria-label={t('employees.editOne', { name })}
                      onClick={() => setDialog({ kind: 'edit', employee })}>
                      {t('employees.edit')}
                    </Button>
                    <Button size="compact-sm" variant="default" color="red" aria-label={t('employees.deleteOne', { name })}
                      onClick={() => setDialog({ kind: 'delete', employee })}>
                      {t('employees.delete')}
                    </Button>
                  </Group>
                );
              },
            }),
          ]
        : []),
    ],
    [t, formats, writing],
  );
  const { table, pages } = useServerPagedTable(rows, columns, employees?.totalCount ?? 0, pager.pageIndex, EMPLOYEE_PAGE_SIZE);

  // The dialog keeps its title while it closes: a dialog without a name is an accessibility fault.
  const lastDialog = useRef<Dialog>({ kind: 'create' });
  if (dialog) lastDialog.current = dialog;
  const shown = lastDialog.current;
  const title =
    shown.kind === 'create'
      ? t('employees.new')
      : shown.kind === 'import'
        ? t('import.title')
        : t(`employees.${shown.kind}Title`, { name: displayName(shown.employee) });

  return (
    <Stack>
      <Group justify="space-between" align="flex-end">
        <Title order={2}>{t('employees.title')}</Title>
        <Group gap="sm">
          <Button component="a" href={EXPORT_URL} download variant="default">
            {t('employees.export')}
          </Button>
          {writing && (
            <>
              <Button variant="default" onClick={() => setDialog({ kind: 'import' })}>
                {t('employees.import')}
              </Button>
              <Button onClick={() => setDialog({ kind: 'create' })}>{t('employees.new')}</Button>
            </>
          )}
        </Group>
      </Group>
      {outcome && <Done outcome={outcome} onClose={() => setOutcome(null)} />}
      <Group justify="space-between" align="flex-end">
        <SearchInput
          label={t('employees.search')}
          placeholder={t('employees.searchPlaceholder')}
          value={criteria.search}
          onChange={(value) => setCriteria({ search: value })}
        />
        <ListCount total={employees?.totalCount} label="employees.count" />
      </Group>
      <RequestError error={error} />
      <DataTable
        table={table}
        caption={t('employees.table', { page: pager.pageIndex + 1 })}
        empty={employees ? t('employees.empty') : null}
        busy={fetching}
        minWidth={820}
      />
      <Pager controls={cursorControls(pager, employees?.pageInfo, pages)} label={t('employees.title')} always />
      <Modal
        opened={dialog !== null}
        onClose={() => setDialog(null)}
        title={title}
        size={dialog?.kind === 'delete' ? 'md' : 'lg'}
        closeButtonProps={{ 'aria-label': t('actions.close') }}
      >
        {dialog?.kind === 'create' && (
          <EmployeeForm employee={null} onDone={finish} onCancel={() => setDialog(null)} />
        )}
        {dialog?.kind === 'edit' && (
          <EmployeeForm employee={dialog.employee} onDone={finish} onCancel={() => setDialog(null)} />
        )}
        {dialog?.kind === 'delete' && (
          <DeleteEmployee
            employee={dialog.employee}
            onDone={(done) => finish({ title: done, programmingJobs: [] })}
            onCancel={() => setDialog(null)}
          />
        )}
        {dialog?.kind === 'import' && (
          <EmployeeImport
            onDone={(done) => finish({ title: done, programmingJobs: [] })}
            onCancel={() => setDialog(null)}
          />
        )}
      </Modal>
    </Stack>
  );
}
