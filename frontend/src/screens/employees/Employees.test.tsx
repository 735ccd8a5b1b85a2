import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { renderRoute } from '../../test/render';
import { connectionPage, fakeServer, viewer } from '../../test/server';
import { createInput, EMPTY_FIELDS, fieldsOf, updateInput } from './employeeModel';
import { EMPLOYEE_PAGE_SIZE, Employees } from './Employees';

const WRITER = ['employees.read', 'employees.write', 'keys.read', 'keys.write', 'domains.read'];

function employee(n: number) {
  return {
    id: `e${n}`,
    employeeNumber: String(n).padStart(5, '0'),
    firstName: `First${n}`,
    lastName: `Last${String(n).padStart(2, '0')}`,
    email: null,
    department: n % 2 ? 'IT' : null,
    phone: null,
    domain: { id: 'd1', name: 'Building A' },
    keys: n === 1 ? [{ id: 'k1' }] : [],
    accessProfiles: n === 2 ? [{ id: 'p1', name: 'IT' }] : [],
  };
}

/** 30 employees paged by `after` (the index of the last one sent), searched by last name. */
function employeesPage(variables: Record<string, unknown>) {
  const search = variables.search as string | null;
  const all = Array.from({ length: 30 }, (_, i) => employee(i + 1)).filter((e) => !search || e.lastName.includes(search));
  return { employees: connectionPage(all, variables) };
}

const domains = () => ({ domains: [{ id: 'd1', name: 'Building A' }] });
const noErrors = { errors: [] };

describe('the employee form model (R4, R13)', () => {
  it('sends only what changed, clears an emptied optional field, and the profiles only when changed', () => {
    const before = fieldsOf(employee(2));
    const after = { ...before, department: '', phone: ' 0711 ' };
    expect(updateInput('e2', before, after, ['p1'], ['p1'])).toEqual({ employeeId: 'e2', phone: '0711' });
    const cleared = { ...before, employeeNumber: '' };
    expect(updateInput('e2', before, cleared, ['p1'], [])).toEqual({
      employeeId: 'e2',
      employeeNumber: null,
      accessProfileIds: [],
    });
    expect(updateInput('e2', before, before, ['p1'], null)).toEqual({ employeeId: 'e2' });
  });

  it('creates with the names always and the optional fields only when given', () => {
    expect(createInput({ ...EMPTY_FIELDS, firstName: ' Ada ', employeeNumber: '007' }, null)).toEqual({
      firstName: 'Ada',
      lastName: '',
      employeeNumber: '007',
    });
    expect(createInput(EMPTY_FIELDS, 'd1')).toMatchObject({ domainId: 'd1' });
  });
});

describe('the employees screen (issue 11 item 4)', () => {
  it('pages and searches on the server', async () => {
    const { client, calls } = fakeServer({ Viewer: viewer(['employees.read']), EmployeesPage: employeesPage });
    renderRoute(<Employees />, client, '/employees', '/employees');

    expect(await screen.findByText('30 employees')).toBeTruthy();
    expect(calls.EmployeesPage[0]).toEqual({ search: null, first: EMPLOYEE_PAGE_SIZE, after: null });
    expect(screen.getByText('Last01, First1')).toBeTruthy();
    await userEvent.click(screen.getByRole('button', { name: 'Next page' }));
    expect(await screen.findByText('Last26, First26')).toBeTruthy();
    expect(screen.getByText('Page 2 of 2')).toBeTruthy();
    await userEvent.type(screen.getByRole('searchbox', { name: 'Search employees' }), 'Last1');
    await waitFor(() => expect(screen.getByText('10 employees')).toBeTruthy());
    expect(calls.EmployeesPage.at(-1)).toEqual({ search: 'Last1', first: EMPLOYEE_PAGE_SIZE, after: null });
    // reading only: no changing
    expect(screen.queryByRole('button', { name: 'New employee' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Edit Last01, First1' })).toBeNull();
    expect(screen.getByRole('link', { name: 'Export CSV' }).getAttribute('href')).toBe('/export/employees.csv');
  });

  it('creates an employee, with the server’s error next to the field it names first', async () => {
    let tries = 0;
    const { client, calls } = fakeServer({
      Viewer: viewer(WRITER),
      EmployeesPage: employeesPage,
      Domains: domains,
      CreateEmployee: (v) => {
        tries += 1;
        const input = v.input as { firstName: string; lastName: string };
        if (tries === 1) {
          return {
            createEmployee: {
              employee: null,
              programmingJobs: [],
              errors: [{ field: 'email', code: 'INVALID', message: 'email: not an e-mail address' }],
            },
          };
        }
        return { createEmployee: { employee: { ...employee(31), ...input }, programmingJobs: [], ...noErrors } };
      },
    });
    renderRoute(<Employees />, client, '/employees', '/employees');
    await userEvent.click(await screen.findByRole('button', { name: 'New employee' }));
    const dialog = screen.getByRole('dialog', { name: 'New employee' });
    await userEvent.type(within(dialog).getByRole('textbox', { name: /First name/ }), 'Ada');
    await userEvent.type(within(dialog).getByRole('textbox', { name: /Last name/ }), 'Lovelace');
    await userEvent.type(within(dialog).getByRole('textbox', { name: 'E-mail' }), 'ada');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create employee' }));

    const email = within(dialog).getByRole('textbox', { name: 'E-mail' });
    expect(await within(dialog).findByText('not an e-mail address')).toBeTruthy();
    expect(email.getAttribute('aria-invalid')).toBe('true');
    expect(calls.CreateEmployee[0]).toEqual({ input: { firstName: 'Ada', lastName: 'Lovelace', email: 'ada' } });

    await userEvent.clear(email);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create employee' }));
    expect(await screen.findByText('Lovelace, Ada was created.')).toBeTruthy();
    expect(calls.CreateEmployee[1]).toEqual({ input: { firstName: 'Ada', lastName: 'Lovelace' } });
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('changes the access profiles and shows the programming jobs the server made (R13, R15)', async () => {
    const { client, calls } = fakeServer({
      Viewer: viewer(WRITER),
      EmployeesPage: employeesPage,
      AccessProfileOptions: () => ({ accessProfiles: [{ id: 'p1', name: 'IT' }, { id: 'p2', name: 'Works council' }] }),
      UpdateEmployee: () => ({
        updateEmployee: {
          employee: { ...employee(2), accessProfiles: [{ id: 'p1', name: 'IT' }, { id: 'p2', name: 'Works council' }] },
          programmingJobs: [
            {
              id: 'j1',
              status: 'PENDING',
              createdAt: '2026-12-07T10:00:00Z',
              cylinder: { id: 'c7', marking: 'B-007', securityRelevant: false },
              changes: [{ op: 'ADD', key: { id: 'k2', marking: 'K-0002' }, group: null, cylinderGroup: null }],
              assignee: null,
            },
          ],
          ...noErrors,
        },
      }),
    });
    renderRoute(<Employees />, client, '/employees', '/employees');
    await userEvent.click(await screen.findByRole('button', { name: 'Edit Last02, First2' }));
    const dialog = screen.getByRole('dialog', { name: 'Edit Last02, First2' });
    await userEvent.click(within(dialog).getByRole('textbox', { name: 'Access profiles' }));
    await userEvent.click(await screen.findByRole('option', { name: 'Works council' }));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save changes' }));

    expect(await screen.findByText('The changes to Last02, First2 were saved.')).toBeTruthy();
    expect(calls.UpdateEmployee[0]).toEqual({ input: { employeeId: 'e2', accessProfileIds: ['p1', 'p2'] } });
    expect(screen.getByText('1 programming job made.')).toBeTruthy();
    const jobs = screen.getByRole('table', { name: 'Programming jobs made' });
    expect(within(jobs).getByText('B-007')).toBeTruthy();
  });

  it('shows why an employee holding keys cannot be deleted (CONFLICT, R4)', async () => {
    const message = 'Last01 holds keys K-0001: return them first';
    const { client, calls } = fakeServer({
      Viewer: viewer(WRITER),
      EmployeesPage: employeesPage,
      DeleteEmployee: () => ({
        deleteEmployee: { deletedId: null, errors: [{ field: 'employeeId', code: 'CONFLICT', message }] },
      }),
    });
    renderRoute(<Employees />, client, '/employees', '/employees');
    await userEvent.click(await screen.findByRole('button', { name: 'Delete Last01, First1' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete Last01, First1' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Delete' }));
    expect((await within(dialog).findByRole('alert')).textContent).toBe(message);
    expect(calls.DeleteEmployee[0]).toEqual({ input: { employeeId: 'e1' } });
  });

  it('checks an import file first, shows the invalid rows, then imports the valid ones (R30)', async () => {
    const { client, calls } = fakeServer({
      Viewer: viewer(WRITER),
      EmployeesPage: employeesPage,
      Domains: domains,
      ImportEmployees: (v) => {
        const input = v.input as { dryRun: boolean };
        return {
          importEmployees: {
            validCount: 2,
            invalidRows: [{ line: 3, message: 'line 3: lastName is required' }],
            created: input.dryRun ? 0 : 1,
            updated: input.dryRun ? 0 : 1,
            ...noErrors,
          },
        };
      },
    });
    renderRoute(<Employees />, client, '/employees', '/employees');
    await userEvent.click(await screen.findByRole('button', { name: 'Import CSV' }));
    const dialog = screen.getByRole('dialog', { name: 'Import employees' });
    const file = new File(['employeeNumber;firstName;lastName\n1;Ada;Lovelace\n2;Bob;\n3;Cy;Young\n'], 'staff.csv', {
      type: 'text/csv',
    });
    expect(within(dialog).getByRole('button', { name: 'Check file' }).hasAttribute('disabled')).toBe(true);
    await userEvent.upload(dialog.querySelector('input[type=file]') as HTMLInputElement, file);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Check file' }));

    expect(await within(dialog).findByText('2 valid rows, 1 invalid.')).toBeTruthy();
    const invalid = within(dialog).getByRole('table', { name: '1 invalid row, not imported' });
    expect(within(invalid).getAllByRole('row').map((r) => r.textContent)).toEqual([
      'LineReason',
      '3line 3: lastName is required',
    ]);
    expect(calls.ImportEmployees[0]).toEqual({ input: { file, dryRun: true, domainId: null } });

    await userEvent.click(within(dialog).getByRole('button', { name: 'Import 2 valid rows' }));
    expect(await screen.findByText('Import finished: 1 created, 1 updated, 1 invalid row skipped.')).toBeTruthy();
    expect(calls.ImportEmployees[1]).toEqual({ input: { file, dryRun: false, domainId: null } });
  });
});
