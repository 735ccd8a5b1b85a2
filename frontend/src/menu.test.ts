import { describe, expect, it } from 'vitest';

import { homePath, visibleMenu } from './menu';

const APPROVER = ['readout.read', 'readout.approve'];
const SUPERADMIN = [
  'keys.read',
  'keys.write',
  'cylinders.read',
  'readout.read',
  'readout.request',
  'employees.read',
  'jobs.read',
  'audit.read',
];
const EMPLOYEE_ADMIN = ['employees.read', 'employees.write'];

describe('the main menu follows the rights (R7)', () => {
  it('shows an Approver only the approvals (R29)', () => {
    expect(visibleMenu(APPROVER).map((i) => i.path)).toEqual(['/approvals']);
    expect(homePath(APPROVER)).toBe('/approvals');
  });

  it('shows a Superadmin the dashboard first, then the keys', () => {
    expect(visibleMenu(SUPERADMIN).map((i) => i.path)).toEqual([
      '/dashboard',
      '/keys',
      '/cylinders',
      '/employees',
      '/jobs',
      '/approvals',
      '/audit',
      '/schedules',
      '/access-profiles',
      '/key-groups',
      '/cylinder-groups',
    ]);
    expect(homePath(SUPERADMIN)).toBe('/dashboard');
  });

  it('shows the dashboard only to who reads keys (issue 12 item 1)', () => {
    expect(visibleMenu(['keys.read']).map((i) => i.path)).toContain('/dashboard');
    expect(visibleMenu(['cylinders.read', 'audit.read']).map((i) => i.path)).not.toContain('/dashboard');
  });

  it('shows the employees and the jobs only to who may read them', () => {
    expect(visibleMenu(EMPLOYEE_ADMIN).map((i) => i.path)).toEqual(['/employees']);
    expect(homePath(EMPLOYEE_ADMIN)).toBe('/employees');
    expect(visibleMenu(['jobs.read']).map((i) => i.path)).toEqual(['/jobs']);
  });

  it('shows nothing to a caller without rights', () => {
    expect(visibleMenu([])).toEqual([]);
    expect(homePath([])).toBeNull();
  });
});
