import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { renderRoute } from '../../test/render';
import { fakeServer, viewer } from '../../test/server';
import { CylinderGroups } from './CylinderGroups';

const A1 = { id: 'c1', marking: 'A-001', domain: { name: 'Main' } };
const A2 = { id: 'c2', marking: 'A-002', domain: { name: 'Main' } };
const BASEMENT = { id: 'g1', name: 'Basement', cylinders: [A1, A2] };

describe('the cylinder groups screen (R13, R15)', () => {
  it('takes a cylinder out of a group and shows the job that made for that cylinder only', async () => {
    const { client, calls } = fakeServer({
      Viewer: viewer(['cylinders.read', 'access.write']),
      CylinderGroups: () => ({ cylinderGroups: [BASEMENT] }),
      CylinderOptions: () => ({ cylinders: { edges: [] } }),
      UpdateCylinderGroup: () => ({
        updateCylinderGroup: {
          cylinderGroup: { ...BASEMENT, cylinders: [A1] },
          programmingJobs: [
            {
              id: 'j1',
              status: 'PENDING',
              createdAt: '2026-12-08T10:00:00Z',
              cylinder: { id: 'c2', marking: 'A-002', securityRelevant: false },
              changes: [{ op: 'REMOVE', key: null, group: null, cylinderGroup: { id: 'g1', name: 'Basement' } }],
              assignee: null,
            },
          ],
          errors: [],
        },
      }),
    });
    const user = userEvent.setup();
    renderRoute(<CylinderGroups />, client, '/cylinder-groups', '/cylinder-groups');
    const table = await screen.findByRole('table', { name: 'Cylinder groups and their cylinders' });
    expect(table.textContent).toContain('A-001, A-002');
    await user.click(screen.getByRole('button', { name: 'Edit cylinder group Basement' }));
    const dialog = await screen.findByRole('dialog');
    // the cylinders chosen before show their markings and domains; A-002's chip is removed
    expect(dialog.textContent).toContain('A-002 · Main');
    const chip = [...dialog.querySelectorAll<HTMLElement>('.mantine-Pill-root')].find((p) =>
      p.textContent?.includes('A-002'),
    )!;
    await user.click(within(chip).getByRole('button', { hidden: true }));
    await user.click(within(dialog).getByRole('button', { name: 'Save cylinder group' }));
    await waitFor(() => expect(calls.UpdateCylinderGroup).toHaveLength(1));
    expect(calls.UpdateCylinderGroup[0].input).toEqual({ cylinderGroupId: 'g1', name: 'Basement', cylinderIds: ['c1'] });
    expect((await screen.findByRole('status')).textContent).toContain('1 programming job made');
    expect(screen.getByRole('table', { name: 'Programming jobs made' }).textContent).toContain('A-002');
  });

  it('shows the server error next to the name it names', async () => {
    const { client } = fakeServer({
      Viewer: viewer(['cylinders.read', 'access.write']),
      CylinderGroups: () => ({ cylinderGroups: [BASEMENT] }),
      CylinderOptions: () => ({ cylinders: { edges: [] } }),
      CreateCylinderGroup: () => ({
        createCylinderGroup: {
          cylinderGroup: null,
          programmingJobs: [],
          errors: [{ field: 'name', code: 'CONFLICT', message: "a cylinder group named 'Basement' exists already" }],
        },
      }),
    });
    const user = userEvent.setup();
    renderRoute(<CylinderGroups />, client, '/cylinder-groups', '/cylinder-groups');
    await user.click(await screen.findByRole('button', { name: 'New cylinder group' }));
    const dialog = await screen.findByRole('dialog');
    await user.type(within(dialog).getByRole('textbox', { name: 'Name' }), 'Basement');
    await user.click(within(dialog).getByRole('button', { name: 'Create cylinder group' }));
    const name = within(dialog).getByRole('textbox', { name: 'Name' });
    await waitFor(() => expect(name.getAttribute('aria-invalid')).toBe('true'));
    expect(dialog.textContent).toContain("a cylinder group named 'Basement' exists already");
  });

  it('shows no edit buttons to a caller who may only read', async () => {
    const { client } = fakeServer({
      Viewer: viewer(['cylinders.read']),
      CylinderGroups: () => ({ cylinderGroups: [BASEMENT] }),
    });
    renderRoute(<CylinderGroups />, client, '/cylinder-groups', '/cylinder-groups');
    await screen.findByRole('table', { name: 'Cylinder groups and their cylinders' });
    expect(screen.queryByRole('button', { name: 'New cylinder group' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Edit cylinder group Basement' })).toBeNull();
  });
});
