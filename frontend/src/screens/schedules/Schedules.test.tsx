import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { renderRoute } from '../../test/render';
import { fakeServer, viewer } from '../../test/server';
import { Schedules } from './Schedules';

const OFFICE = {
  id: 's2',
  name: 'Office hours',
  windows: [{ days: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'], start: '07:00', end: '18:00' }],
};
const ALWAYS = { id: 's1', name: 'Always', windows: [{ days: ['MONDAY', 'SUNDAY'], start: '00:00', end: '23:59' }] };

function outcome(input: { name?: string; windows?: unknown }, errors: unknown[] = []) {
  return {
    schedule: errors.length ? null : { ...OFFICE, ...input },
    remoteJobs: errors.length
      ? []
      : [{ id: 'r1', kind: 'SCHEDULE', status: 'PENDING', key: { id: 'k1', marking: 'K-0007' } }],
    errors,
  };
}

describe('the schedules screen and its weekly grid (R12)', () => {
  it('edits a schedule by keyboard in the grid and shows the remote jobs it made', async () => {
    const { client, calls } = fakeServer({
      Viewer: viewer(['keys.read', 'access.write']),
      Schedules: () => ({ schedules: [ALWAYS, OFFICE] }),
      UpdateSchedule: (v) => ({ updateSchedule: outcome((v.input as { name: string })) }),
    });
    const user = userEvent.setup();
    renderRoute(<Schedules />, client, '/schedules', '/schedules');
    const table = await screen.findByRole('table', { name: /schedules and their weekly/i });
    expect(table.textContent).toContain('Mon–Fri 07:00–18:00');
    await user.click(screen.getByRole('button', { name: 'Edit schedule Office hours' }));
    const dialog = await screen.findByRole('dialog');
    // Saturday of window 1 by keyboard: focus it, Space ticks it.
    const saturday = within(dialog).getByRole('checkbox', { name: 'Saturday, window 1' });
    expect((saturday as HTMLInputElement).checked).toBe(false);
    saturday.focus();
    await user.keyboard(' ');
    expect((saturday as HTMLInputElement).checked).toBe(true);
    const end = within(dialog).getByLabelText('End of window 1');
    await user.clear(end);
    await user.type(end, '16:30');
    await user.click(within(dialog).getByRole('button', { name: 'Save schedule' }));
    await waitFor(() => expect(calls.UpdateSchedule).toHaveLength(1));
    expect(calls.UpdateSchedule[0].input).toEqual({
      scheduleId: 's2',
      name: 'Office hours',
      windows: [
        { days: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'], start: '07:00', end: '16:30' },
      ],
    });
    const status = await screen.findByRole('status');
    expect((status).textContent).toContain('Schedule Office hours saved');
    expect((status).textContent).toContain('1 key carrying the schedule gets the new windows');
    expect((status).textContent).toContain('K-0007');
  });

  it("shows the server's messages on the window they name and keeps the dialog open", async () => {
    const { client } = fakeServer({
      Viewer: viewer(['keys.read', 'access.write']),
      Schedules: () => ({ schedules: [ALWAYS] }),
      CreateSchedule: (v) =>
        ({
          createSchedule: outcome(v.input as { name: string }, [
            { field: 'windows.1.end', code: 'INVALID', message: 'windows: start must be before end' },
            { field: 'name', code: 'CONFLICT', message: "a schedule named 'Always' exists already" },
          ]),
        }),
    });
    const user = userEvent.setup();
    renderRoute(<Schedules />, client, '/schedules', '/schedules');
    await user.click(await screen.findByRole('button', { name: 'New schedule' }));
    const dialog = await screen.findByRole('dialog');
    await user.type(within(dialog).getByRole('textbox', { name: /name/i }), 'Always');
    await user.click(within(dialog).getByRole('button', { name: 'Add a weekend window' }));
    expect((within(dialog).getByRole('checkbox', { name: 'Sunday, window 2' }) as HTMLInputElement).checked).toBe(true);
    await user.click(within(dialog).getByRole('button', { name: 'Create schedule' }));
    const message = await within(dialog).findByText(/Window 2: start must be before end/);
    expect((message).getAttribute('role')).toBe('alert');
    expect((within(dialog).getByLabelText('End of window 2')).getAttribute('aria-describedby')).toBe(message.id);
    expect((within(dialog).getByLabelText('End of window 1')).getAttribute('aria-describedby')).toBeNull();
    expect(within(dialog).getByText("a schedule named 'Always' exists already")).toBeTruthy();
    await user.click(within(dialog).getByRole('button', { name: 'Remove window 2' }));
    expect(within(dialog).queryByLabelText('End of window 2')).toBeNull();
  });

  it('names who uses a schedule the server will not delete (CONFLICT)', async () => {
    const { client, calls } = fakeServer({
      Viewer: viewer(['keys.read', 'access.write']),
      Schedules: () => ({ schedules: [OFFICE] }),
      DeleteSchedule: () => ({
        deleteSchedule: {
          deletedId: null,
          errors: [{ field: 'id', code: 'CONFLICT', message: "the schedule 'Office hours' is in use: keys K-0001, K-0002" }],
        },
      }),
    });
    const user = userEvent.setup();
    renderRoute(<Schedules />, client, '/schedules', '/schedules');
    await user.click(await screen.findByRole('button', { name: 'Delete schedule Office hours' }));
    const dialog = await screen.findByRole('dialog');
    await user.click(within(dialog).getByRole('button', { name: 'Delete' }));
    expect((await within(dialog).findByRole('alert')).textContent).toContain('keys K-0001, K-0002');
    expect(calls.DeleteSchedule[0]).toEqual({ input: { id: 's2' } });
  });

  it('offers no changes to a caller without access.write', async () => {
    const { client } = fakeServer({
      Viewer: viewer(['keys.read']),
      Schedules: () => ({ schedules: [OFFICE] }),
    });
    renderRoute(<Schedules />, client, '/schedules', '/schedules');
    await screen.findByText('Office hours');
    expect(screen.queryByRole('button', { name: 'New schedule' })).toBeNull();
    expect(screen.queryByRole('button', { name: /Edit schedule/ })).toBeNull();
  });
});
