import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { renderRoute } from '../../test/render';
import { connectionPage, fakeServer, viewer } from '../../test/server';
import { CylinderCard } from './CylinderCard';
import { CYLINDER_PAGE_SIZE, Cylinders } from './Cylinders';

function cylinderNode(n: number) {
  return {
    id: `c${n}`,
    marking: `A-${String(n).padStart(3, '0')}`,
    status: 'ACTIVE',
    securityRelevant: n === 1,
    needsReprogramming: n === 2,
    isClone: false,
    domain: { name: 'Default' },
  };
}

/** 30 cylinders paged by `after` (the index of the last one sent), searched by marking. */
function cylindersPage(variables: Record<string, unknown>) {
  const filter = variables.filter as { search?: string } | null;
  const all = Array.from({ length: 30 }, (_, i) => cylinderNode(i + 1)).filter(
    (c) => !filter?.search || c.marking.includes(filter.search),
  );
  return { cylinders: connectionPage(all, variables) };
}

function job(cylinder: string) {
  return {
    id: `j-${cylinder}`,
    status: 'PENDING',
    createdAt: '2026-12-07T10:00:00Z',
    cylinder: { id: cylinder, marking: cylinder.replace('c', 'A-0'), securityRelevant: false },
    changes: [{ op: 'ADD', key: { id: 'k1', marking: 'K-0001' }, group: null, cylinderGroup: null }],
    assignee: null,
  };
}

describe('the cylinders list and its list function (R16)', () => {
  it('chooses cylinders across pages and searches, adds a key to all and names the unchanged', async () => {
    const { client, calls } = fakeServer({
      Viewer: viewer(['cylinders.read', 'keys.read', 'access.write']),
      CylindersPage: cylindersPage,
      KeyGroupOptions: () => ({ keyGroups: [{ id: 'g1', name: 'Facility E3' }] }),
      KeyOptions: () => ({
        keys: {
          edges: [
            { node: { id: 'k1', marking: 'K-0001', type: 'E3', status: 'ISSUED', holder: { firstName: 'Ina', lastName: 'Md' } } },
          ],
        },
      }),
      ChangeAuthorizations: () => ({
        changeAuthorizations: {
          programmingJobs: [job('c26')],
          unchangedCylinders: [
            { id: 'c1', marking: 'A-001' },
            { id: 'c2', marking: 'A-002' },
          ],
          skippedCylinders: [
            {
              cylinder: { id: 'c3', marking: 'A-003' },
              code: 'DEFECTIVE',
              message: 'A-003 is defective: its replacement gets the change',
            },
          ],
          warnings: [],
          errors: [],
        },
      }),
    });
    renderRoute(<Cylinders />, client, '/cylinders', '/cylinders');

    expect(await screen.findByText('30 cylinders')).toBeTruthy();
    expect(calls.CylindersPage[0]).toEqual({ filter: null, first: CYLINDER_PAGE_SIZE, after: null });
    await userEvent.click(screen.getByRole('checkbox', { name: 'Choose A-001' }));
    await userEvent.click(screen.getByRole('checkbox', { name: 'Choose A-002' }));
    await userEvent.click(screen.getByRole('button', { name: 'Next page' }));
    await userEvent.click(await screen.findByRole('checkbox', { name: 'Choose A-026' }));
    await userEvent.type(screen.getByRole('searchbox', { name: 'Search cylinders' }), 'A-00');
    await waitFor(() => expect(screen.getByText('9 cylinders')).toBeTruthy());
    // the choice survives paging and searching; the page's box says part of it is chosen
    expect((screen.getByRole('checkbox', { name: 'Choose A-001' }) as HTMLInputElement).checked).toBe(true);
    expect(
      (screen.getByRole('checkbox', { name: 'Choose all cylinders on this page' }) as HTMLInputElement).indeterminate,
    ).toBe(true);
    const listFunction = screen.getByRole('region', { name: 'List function' });
    expect(within(listFunction).getByText('3 cylinders chosen: A-001, A-002, A-026')).toBeTruthy();

    await userEvent.click(within(listFunction).getByRole('button', { name: 'Add to 3 cylinders' }));
    expect(within(listFunction).getByText('Choose at least one key or key group.')).toBeTruthy();
    expect(calls.ChangeAuthorizations).toBeUndefined();

    await userEvent.type(within(listFunction).getByRole('textbox', { name: 'Keys' }), 'K-0001');
    await userEvent.click(await screen.findByRole('option', { name: 'K-0001 · E3 · Md, Ina' }));
    await userEvent.click(within(listFunction).getByRole('button', { name: 'Add to 3 cylinders' }));

    expect(await within(listFunction).findByText('1 programming job made; 2 cylinders unchanged.')).toBeTruthy();
    expect(calls.ChangeAuthorizations[0]).toEqual({ input: { cylinderIds: ['c1', 'c2', 'c26'], add: ['k1'] } });
    const unchanged = within(listFunction).getByRole('list', { name: /^Unchanged/ });
    expect(within(unchanged).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['A-001', 'A-002']);
    // a defective cylinder is named apart, with why it was not changed (R11)
    expect(
      within(listFunction).getByText(
        'defective: the change stays in its desired access list, so its replacement gets it',
        { exact: false },
      ),
    ).toBeTruthy();
    expect(within(listFunction).getByRole('table', { name: 'Programming jobs made' })).toBeTruthy();
  });

  it('removes a key group, with the server’s error next to the field it names', async () => {
    const { client, calls } = fakeServer({
      Viewer: viewer(['cylinders.read', 'keys.read', 'access.write']),
      CylindersPage: cylindersPage,
      KeyGroupOptions: () => ({ keyGroups: [{ id: 'g1', name: 'Facility E3' }] }),
      KeyOptions: () => ({ keys: { edges: [] } }),
      ChangeAuthorizations: () => ({
        changeAuthorizations: {
          programmingJobs: [],
          unchangedCylinders: [],
          skippedCylinders: [],
          warnings: [],
          errors: [{ field: 'remove.0', code: 'NOT_FOUND', message: 'remove.0: no such key or key group' }],
        },
      }),
    });
    renderRoute(<Cylinders />, client, '/cylinders', '/cylinders');
    await userEvent.click(await screen.findByRole('checkbox', { name: 'Choose all cylinders on this page' }));
    const listFunction = screen.getByRole('region', { name: 'List function' });
    await userEvent.click(within(listFunction).getByRole('radio', { name: 'Remove' }));
    await userEvent.click(within(listFunction).getByRole('textbox', { name: 'Key groups' }));
    await userEvent.click(await screen.findByRole('option', { name: 'Facility E3' }));
    await userEvent.click(within(listFunction).getByRole('button', { name: 'Remove from 25 cylinders' }));

    expect(await within(listFunction).findByText('no such key or key group')).toBeTruthy();
    const input = calls.ChangeAuthorizations[0].input as { cylinderIds: string[]; remove: string[] };
    expect(input.cylinderIds).toHaveLength(25);
    expect(input.remove).toEqual(['g1']);
  });

  it('offers no choosing to a caller who may not change authorizations (R7)', async () => {
    const { client } = fakeServer({ Viewer: viewer(['cylinders.read']), CylindersPage: cylindersPage });
    renderRoute(<Cylinders />, client, '/cylinders', '/cylinders');
    expect(await screen.findByText('30 cylinders')).toBeTruthy();
    expect(screen.queryByRole('checkbox')).toBeNull();
    expect(screen.queryByRole('region', { name: 'List function' })).toBeNull();
  });
});

function cardServer(approverFunction: boolean, extra: Record<string, (v: Record<string, unknown>) => unknown> = {}) {
  const entry = (id: string, marking: string, desired: boolean, programmed: boolean) => ({
    desired,
    programmed,
    key: { id, marking, type: 'E3', holder: { firstName: 'Ina', lastName: 'Holder' } },
    group: null,
    cylinderGroup: null,
  });
  return fakeServer({
    Viewer: viewer(['cylinders.read', 'jobs.read', 'audit.read', 'readout.request']),
    CylinderCard: () => ({
      tenant: { approverFunction },
      node: {
        __typename: 'Cylinder',
        id: 'c3',
        marking: 'A-003 Delivery entrance',
        uid: 'UID-C3',
        status: 'ACTIVE',
        securityRelevant: false,
        isClone: false,
        needsReprogramming: false,
        domain: { id: 'd1', name: 'Default' },
        accessList: [
          entry('k13', 'K-0013', true, true),
          entry('k1', 'K-0001', true, false),
          entry('k40', 'K-0040', false, true),
          { desired: true, programmed: true, key: null, group: { id: 'g1', name: 'Facility E3' }, cylinderGroup: null },
        ],
      },
    }),
    OpenJobs: () => ({ programmingJobs: { totalCount: 1, pageInfo: { hasNextPage: false, endCursor: 'x' }, edges: [{ node: job('c3') }] } }),
    CylinderAuditTrail: () => ({
      auditEvents: {
        totalCount: 1,
        pageInfo: { hasNextPage: false, endCursor: 'e1' },
        edges: [{ cursor: 'e1', node: { at: '2026-01-05T22:10:00Z', result: 'DENIED_SCHEDULE', key: { id: 'k1', marking: 'K-0001' } } }],
      },
    }),
    ...extra,
  });
}

describe('the cylinder card', () => {
  it('sets the desired access list against the programmed one (R11) beside its jobs and trail', async () => {
    const { client, calls } = cardServer(false);
    renderRoute(<CylinderCard />, client, '/cylinders/:id', '/cylinders/c3');
    const access = await screen.findByRole('region', { name: 'Access list: desired and programmed' });
    expect(within(access).getByText('2 of 4 entries differ from the cylinder')).toBeTruthy();
    const state = (marking: string) =>
      within(within(access).getByRole('row', { name: new RegExp(marking) })).getAllByRole('cell').at(-1)!.textContent;
    expect(state('K-0013')).toBe('Programmed');
    expect(state('K-0001')).toBe('To be added');
    expect(state('K-0040')).toBe('To be removed');
    expect(within(access).getByText('key group Facility E3')).toBeTruthy();

    await userEvent.click(within(access).getByRole('radio', { name: 'Differences only' }));
    expect(within(access).getAllByRole('row')).toHaveLength(3);

    const trail = screen.getByRole('region', { name: 'Audit trail' });
    expect(await within(trail).findByText('Refused: outside the schedule')).toBeTruthy();
    expect(within(trail).queryByText(/Approver function/)).toBeNull();
    expect(calls.CylinderAuditTrail[0]).toMatchObject({ filter: { cylinderId: 'c3' } });
    expect(calls.OpenJobs[0]).toMatchObject({ filter: { cylinderId: 'c3', status: ['PENDING', 'ASSIGNED', 'ON_KEY'] } });
  });

  it('under the approver function, says why events are missing and asks for a readout (R29, R38)', async () => {
    const { client, calls } = cardServer(true, {
      RequestReadout: () => ({
        requestReadout: { readoutRequest: { id: 'rr1', status: 'AWAITING_APPROVAL' }, errors: [] },
      }),
    });
    renderRoute(<CylinderCard />, client, '/cylinders/:id', '/cylinders/c3');
    const trail = await screen.findByRole('region', { name: 'Audit trail' });
    expect(within(trail).getByText(/shown only after an Approver has approved a readout/)).toBeTruthy();

    await userEvent.click(within(trail).getByRole('button', { name: 'Request readout' }));
    expect(within(trail).getByText('Required')).toBeTruthy();
    expect(calls.RequestReadout).toBeUndefined();

    await userEvent.type(within(trail).getByRole('textbox', { name: /Reason for the readout/ }), 'Break-in on 5 January');
    await userEvent.click(within(trail).getByRole('button', { name: 'Request readout' }));
    expect(await within(trail).findByText('Readout requested: Awaiting approval.')).toBeTruthy();
    expect(calls.RequestReadout[0]).toEqual({ input: { targetId: 'c3', reason: 'Break-in on 5 January' } });
  });
});
