import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { renderRoute } from '../../test/render';
import { fakeServer, viewer } from '../../test/server';
import { KeyGroups } from './KeyGroups';

const K5 = { id: 'k5', marking: 'K-0005', type: 'E3' };
const K9 = { id: 'k9', marking: 'K-0009', type: 'E3' };
const FACILITY = { id: 'g1', name: 'Facility E3', keys: [K5, K9] };

describe('the key groups screen (R13, R15)', () => {
  it('takes a member out of a group and shows the jobs that made', async () => {
    const { client, calls } = fakeServer({
      Viewer: viewer(['keys.read', 'access.write']),
      KeyGroups: () => ({ keyGroups: [FACILITY] }),
      KeyOptions: () => ({ keys: { edges: [] } }),
      UpdateKeyGroup: () => ({
        updateKeyGroup: {
          keyGroup: { ...FACILITY, keys: [K5] },
          programmingJobs: [
            {
              id: 'j1',
              status: 'PENDING',
              createdAt: '2026-12-07T10:00:00Z',
              cylinder: { id: 'c1', marking: 'A-001', securityRelevant: true },
              changes: [{ op: 'REMOVE', key: { id: 'k9', marking: 'K-0009' }, group: null, cylinderGroup: null }],
              assignee: null,
            },
          ],
          remoteJobs: [],
          errors: [],
        },
      }),
    });
    const user = userEvent.setup();
    renderRoute(<KeyGroups />, client, '/key-groups', '/key-groups');
    const table = await screen.findByRole('table', { name: 'Key groups and their keys' });
    expect(table.textContent).toContain('K-0005, K-0009');
    await user.click(screen.getByRole('button', { name: 'Edit key group Facility E3' }));
    const dialog = await screen.findByRole('dialog');
    // the members chosen before show their markings; K-0009's chip is removed
    expect(dialog.textContent).toContain('K-0009 · E3');
    const chip = [...dialog.querySelectorAll<HTMLElement>('.mantine-Pill-root')].find((p) =>
      p.textContent?.includes('K-0009'),
    )!;
    await user.click(within(chip).getByRole('button', { hidden: true }));
    await user.click(within(dialog).getByRole('button', { name: 'Save key group' }));
    await waitFor(() => expect(calls.UpdateKeyGroup).toHaveLength(1));
    expect(calls.UpdateKeyGroup[0].input).toEqual({ keyGroupId: 'g1', name: 'Facility E3', keyIds: ['k5'] });
    expect((await screen.findByRole('status')).textContent).toContain('1 programming job made');
    expect(screen.getByRole('table', { name: 'Programming jobs made' }).textContent).toContain('K-0009');
  });

  it("shows the server's refusal to delete a group cylinders hold", async () => {
    const { client } = fakeServer({
      Viewer: viewer(['keys.read', 'access.write']),
      KeyGroups: () => ({ keyGroups: [FACILITY] }),
      DeleteKeyGroup: () => ({
        deleteKeyGroup: {
          deletedId: null,
          errors: [{ field: 'id', code: 'CONFLICT', message: "the key group 'Facility E3' is in use: cylinders A-001" }],
        },
      }),
    });
    const user = userEvent.setup();
    renderRoute(<KeyGroups />, client, '/key-groups', '/key-groups');
    await user.click(await screen.findByRole('button', { name: 'Delete key group Facility E3' }));
    const dialog = await screen.findByRole('dialog');
    await user.click(within(dialog).getByRole('button', { name: 'Delete' }));
    expect((await within(dialog).findByRole('alert')).textContent).toContain('cylinders A-001');
  });
});
