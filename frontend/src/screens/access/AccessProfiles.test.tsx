import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { renderRoute } from '../../test/render';
import { fakeServer, viewer } from '../../test/server';
import { AccessProfiles } from './AccessProfiles';

const A001 = { id: 'c1', marking: 'A-001', domain: { name: 'Default' } };
const A007 = { id: 'c7', marking: 'A-007', domain: { name: 'Default' } };
const IT = {
  id: 'p1',
  name: 'IT',
  extensionIntervalHours: null,
  schedule: { id: 's1', name: 'Always' },
  cylinders: [A001],
};

function job(cylinder: typeof A001) {
  return {
    id: `j-${cylinder.id}`,
    status: 'PENDING',
    createdAt: '2026-12-07T10:00:00Z',
    cylinder: { id: cylinder.id, marking: cylinder.marking, securityRelevant: false },
    changes: [{ op: 'ADD', key: { id: 'k1', marking: 'K-0001' }, group: null, cylinderGroup: null }],
    assignee: null,
  };
}

/** Cylinders found by marking, as the server's search does. */
function cylinderOptions(variables: Record<string, unknown>) {
  const search = (variables.search as string | null) ?? '';
  return { cylinders: { edges: [A001, A007].filter((c) => c.marking.includes(search)).map((node) => ({ node })) } };
}

const SCHEDULES = () => ({ schedules: [{ id: 's1', name: 'Always' }, { id: 's2', name: 'Office hours' }] });

describe('the access profiles screen (R13, R14, R15)', () => {
  it('edits a profile: a cylinder searched on the server, the schedule, the interval; shows the jobs made', async () => {
    const { client, calls } = fakeServer({
      Viewer: viewer(['keys.read', 'access.write']),
      AccessProfiles: () => ({ accessProfiles: [IT] }),
      ScheduleOptions: SCHEDULES,
      CylinderOptions: cylinderOptions,
      UpdateAccessProfile: () => ({
        updateAccessProfile: {
          accessProfile: { ...IT, cylinders: [A001, A007], schedule: { id: 's2', name: 'Office hours' } },
          programmingJobs: [job(A007)],
          errors: [],
        },
      }),
    });
    const user = userEvent.setup();
    renderRoute(<AccessProfiles />, client, '/access-profiles', '/access-profiles');
    const table = await screen.findByRole('table', { name: /access profiles with/i });
    expect(table.textContent).toContain('A-001');
    expect(table.textContent).toContain("The key's own");
    await user.click(screen.getByRole('button', { name: 'Edit access profile IT' }));
    const dialog = await screen.findByRole('dialog');
    // the cylinder chosen before shows its marking, not its id
    expect(dialog.textContent).toContain('A-001 · Default');
    await user.type(within(dialog).getByRole('textbox', { name: 'Cylinders' }), 'A-007');
    await waitFor(() => expect(calls.CylinderOptions?.some((v) => v.search === 'A-007')).toBe(true));
    await user.click(await screen.findByRole('option', { name: 'A-007 · Default' }));
    await user.click(within(dialog).getByRole('textbox', { name: 'Schedule' }));
    await user.click(await screen.findByRole('option', { name: 'Office hours' }));
    await user.type(within(dialog).getByRole('textbox', { name: /Extension interval/ }), '24');
    await user.click(within(dialog).getByRole('button', { name: 'Save access profile' }));
    await waitFor(() => expect(calls.UpdateAccessProfile).toHaveLength(1));
    expect(calls.UpdateAccessProfile[0].input).toEqual({
      accessProfileId: 'p1',
      name: 'IT',
      cylinderIds: ['c1', 'c7'],
      scheduleId: 's2',
      extensionIntervalHours: 24,
    });
    const status = await screen.findByRole('status');
    expect(status.textContent).toContain('Access profile IT saved');
    expect(status.textContent).toContain('1 programming job made');
    expect(screen.getByRole('table', { name: 'Programming jobs made' }).textContent).toContain('A-007');
  });

  it("shows the server's errors next to the fields they name", async () => {
    const { client } = fakeServer({
      Viewer: viewer(['keys.read', 'access.write']),
      AccessProfiles: () => ({ accessProfiles: [] }),
      ScheduleOptions: SCHEDULES,
      CylinderOptions: cylinderOptions,
      CreateAccessProfile: () => ({
        createAccessProfile: {
          accessProfile: null,
          programmingJobs: [],
          errors: [
            { field: 'name', code: 'INVALID', message: 'name: must not be empty' },
            { field: 'extensionIntervalHours', code: 'INVALID', message: 'extensionIntervalHours: between 1 and 17520 hours' },
          ],
        },
      }),
    });
    const user = userEvent.setup();
    renderRoute(<AccessProfiles />, client, '/access-profiles', '/access-profiles');
    expect(await screen.findByText('No access profiles yet.')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'New access profile' }));
    const dialog = await screen.findByRole('dialog');
    await user.type(within(dialog).getByRole('textbox', { name: /Extension interval/ }), '99999');
    await user.click(within(dialog).getByRole('button', { name: 'Create access profile' }));
    const name = within(dialog).getByRole('textbox', { name: /Name/ });
    await waitFor(() => expect(name.getAttribute('aria-invalid')).toBe('true'));
    expect(document.getElementById(name.getAttribute('aria-describedby')!.split(' ').pop()!)?.textContent).toBe(
      'must not be empty',
    );
    expect(dialog.textContent).toContain('between 1 and 17520 hours');
  });

  it('names the keys and employees holding a profile the server will not delete', async () => {
    const { client } = fakeServer({
      Viewer: viewer(['keys.read', 'access.write']),
      AccessProfiles: () => ({ accessProfiles: [IT] }),
      DeleteAccessProfile: () => ({
        deleteAccessProfile: {
          deletedId: null,
          errors: [{ field: 'id', code: 'CONFLICT', message: "the access profile 'IT' is in use: employees Md, Ina" }],
        },
      }),
    });
    const user = userEvent.setup();
    renderRoute(<AccessProfiles />, client, '/access-profiles', '/access-profiles');
    await user.click(await screen.findByRole('button', { name: 'Delete access profile IT' }));
    const dialog = await screen.findByRole('dialog');
    await user.click(within(dialog).getByRole('button', { name: 'Delete' }));
    expect((await within(dialog).findByRole('alert')).textContent).toContain('employees Md, Ina');
  });
});
