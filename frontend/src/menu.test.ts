import { describe, expect, it } from 'vitest';

import { homePath, visibleMenu } from './menu';

const APPROVER = ['readout.read', 'readout.approve'];
const SUPERADMIN = ['keys.read', 'keys.write', 'cylinders.read', 'readout.read', 'readout.request', 'employees.read'];

describe('the main menu follows the rights (R7)', () => {
  it('shows an Approver only the approvals (R29)', () => {
    expect(visibleMenu(APPROVER).map((i) => i.path)).toEqual(['/approvals']);
    expect(homePath(APPROVER)).toBe('/approvals');
  });

  it('shows a Superadmin the keys first', () => {
    expect(visibleMenu(SUPERADMIN).map((i) => i.path)).toEqual(['/keys', '/cylinders', '/approvals', '/schedules', '/access-profiles', '/key-groups']);
    expect(homePath(SUPERADMIN)).toBe('/keys');
  });

  it('shows nothing to a caller without rights', () => {
    expect(visibleMenu([])).toEqual([]);
    expect(homePath([])).toBeNull();
  });
});
