import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { renderRoute } from '../../test/render';
import { fakeServer, viewer } from '../../test/server';
import { KeyCard } from './KeyCard';

const RIGHTS = ['keys.read', 'keys.issue', 'keys.write', 'jobs.read', 'blocking_list.read', 'employees.read', 'audit.read'];
const ALWAYS = { id: 's1', name: 'Always' };
const BUILDING_A = { id: 'dA', name: 'Building A' };
const BUILDING_B = { id: 'dB', name: 'Building B' };

function cylinder(id: string, marking: string, domain = BUILDING_B, securityRelevant = false) {
  return { id, marking, securityRelevant, domain };
}

function authorization(via: string, programmed: boolean, cyl: ReturnType<typeof cylinder>) {
  return { via, programmed, effectiveExtensionIntervalHours: 168, cylinder: cyl, schedule: ALWAYS };
}

/** The research lead's E3 key: one direct authorization, one through its own profile, one
 * through its holder's. */
function keyNode(status: string, overrides: Record<string, unknown> = {}) {
  return {
    __typename: 'Key',
    id: 'k18',
    marking: 'K-0018',
    uid: 'UID-18',
    type: 'E3',
    generation: 'GEN2',
    firmwareVersion: '12.3.0',
    status,
    auditReadoutEnabled: true,
    extensionIntervalHours: 168,
    domain: BUILDING_B,
    holder:
      status === 'IN_STOCK'
        ? null
        : { id: 'e1', firstName: 'Lars', lastName: 'Hoffmann', employeeNumber: '00755', accessProfiles: [{ id: 'p3', name: 'Cleaning' }] },
    validity: { alwaysValid: true, validFrom: null, validUntil: null },
    schedule: ALWAYS,
    accessProfiles: [{ id: 'p1', name: 'All staff' }],
    groups: [],
    authorizations: [
      authorization('direct', true, cylinder('c11', 'B-011 Office')),
      authorization('profile:All staff', false, cylinder('c1', 'A-001 Main entrance', BUILDING_A, true)),
      authorization('profile:Cleaning', true, cylinder('c17', 'B-017 Cleaning storeroom')),
    ],
    ...overrides,
  };
}

const NO_JOBS = { programmingJobs: { totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] } };
const NO_REMOTE_JOBS = {
  node: {
    __typename: 'Key',
    id: 'k18',
    remoteJobs: { totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] },
  },
};

function removal(id: string, marking: string) {
  return {
    id,
    status: 'PENDING',
    createdAt: '2026-12-07T10:00:00Z',
    cylinder: { id: `cyl-${id}`, marking, securityRelevant: false },
    changes: [{ op: 'REMOVE', key: { id: 'k18', marking: 'K-0018' }, group: null, cylinderGroup: null }],
    assignee: null,
  };
}

function keyServer(status: string, extra: Record<string, (v: Record<string, unknown>) => unknown> = {}) {
  const state = { status };
  const server = fakeServer({
    Viewer: viewer(RIGHTS),
    KeyCard: () => ({ node: keyNode(state.status) }),
    OpenJobs: () => NO_JOBS,
    KeyRemoteJobs: () => NO_REMOTE_JOBS,
    KeyBlockingList: () => ({
      blockingList: { version: 7, issuedAt: '2026-12-07T10:00:00Z', validUntil: '2026-12-07T12:00:00Z', keyUids: ['UID-18'] },
    }),
    ...extra,
  });
  return { ...server, state };
}

function open(client: ReturnType<typeof fakeServer>['client']) {
  return renderRoute(<KeyCard />, client, '/keys/:id', '/keys/k18');
}

describe('the key card', () => {
  it('shows the key, where each authorization comes from and what still waits for programming', async () => {
    const { client, calls } = keyServer('ISSUED');
    open(client);

    expect(await screen.findByRole('heading', { name: 'Key K-0018' })).toBeTruthy();
    const authorizations = screen.getByRole('region', { name: 'Authorizations' });
    expect(within(authorizations).getByText('2 of 3 programmed')).toBeTruthy();
    expect(within(authorizations).getByRole('cell', { name: 'Direct' })).toBeTruthy();
    expect(within(authorizations).getByRole('cell', { name: 'Access profile All staff' })).toBeTruthy();
    expect(within(authorizations).getByRole('cell', { name: "Holder's access profile Cleaning" })).toBeTruthy();
    expect(within(authorizations).getByText('Waiting for programming')).toBeTruthy();
    expect(screen.getByText('Hoffmann, Lars (00755)')).toBeTruthy();
    // an issued key is returned, reported lost or defective, copied; not issued again (R10)
    const actions = screen.getByRole('group', { name: 'Actions for this key' });
    expect(within(actions).getAllByRole('button').map((b) => b.textContent)).toEqual([
      'Return',
      'Report lost',
      'Report defective',
      'Copy configuration',
    ]);
    // its open jobs: those that add or remove this key, still to be done (R15)
    await waitFor(() => expect(calls.OpenJobs?.[0]).toBeTruthy());
    expect(calls.OpenJobs[0].filter).toEqual({ keyId: 'k18', status: ['PENDING', 'ASSIGNED', 'ON_KEY'] });
    // its audit trail (an E3 key keeps one, R10, R28): the audit trail screen filtered by it
    const trail = screen.getByRole('region', { name: 'Audit trail' });
    expect(within(trail).getByRole('link', { name: "Show this key's audit trail" }).getAttribute('href')).toBe(
      '/audit?keyId=k18',
    );
  });

  it('reports it lost from a chosen area, with the refusal next to the choice, then shows the blocking list', async () => {
    const answers = [
      { errors: [{ field: 'cylinderIds', code: 'INVALID', message: 'cylinderIds: name at least one cylinder' }] },
      {
        errors: [],
        key: { id: 'k18', marking: 'K-0018', status: 'LOST' },
        programmingJobs: [removal('j1', 'B-011 Office'), removal('j2', 'B-017 Cleaning storeroom')],
        remoteJobs: [{ id: 'r1', kind: 'BLOCK', status: 'PENDING' }],
        warnings: [{ code: 'PARTLY_DEPROGRAMMED', message: 'the key stays in 1 other cylinder(s)' }],
      },
    ];
    const server = keyServer('ISSUED', {
      ReportKeyLost: () => {
        const answer = answers.shift()!;
        if (!answer.errors.length) server.state.status = 'LOST';
        return { reportKeyLost: answer };
      },
    });
    open(server.client);
    await userEvent.click(await screen.findByRole('button', { name: 'Report lost' }));
    const dialog = await screen.findByRole('dialog', { name: 'Report key K-0018 lost' });

    await userEvent.click(within(dialog).getByRole('radio', { name: 'chosen cylinders or areas' }));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Report lost' }));
    expect(await within(dialog).findByText('name at least one cylinder')).toBeTruthy();
    expect(server.calls.ReportKeyLost[0]).toEqual({ input: { keyId: 'k18', deprogram: true, cylinderIds: [] } });

    await userEvent.click(within(dialog).getByRole('checkbox', { name: 'All of Building B (2 cylinders)' }));
    expect(within(dialog).queryByText('name at least one cylinder')).toBeNull();
    await userEvent.click(within(dialog).getByRole('button', { name: 'Report lost' }));

    const outcome = await screen.findByRole('region', { name: 'Key K-0018 reported lost' });
    expect(server.calls.ReportKeyLost[1]).toEqual({
      input: { keyId: 'k18', deprogram: true, cylinderIds: ['c11', 'c17'] },
    });
    expect(within(outcome).getByText('2 programming jobs made.')).toBeTruthy();
    expect(within(outcome).getByText(/stays in the cylinders not chosen/)).toBeTruthy();
    expect(within(outcome).getAllByText('Remove K-0018')).toHaveLength(2);
    // the card is asked again: now LOST, on the blocking list (R19, R21)
    const blocking = await screen.findByRole('region', { name: 'Key blocking list' });
    expect(within(blocking).getByText(/on the key blocking list, version 7/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Report lost' })).toBeNull();
  });

  it('explains why an E2 key cannot take an E3 key’s configuration (R20)', async () => {
    const { client, calls } = keyServer('LOST', {
      KeyOptions: () => ({
        keys: {
          edges: [{ node: { id: 'k35', marking: 'K-0035', type: 'E2', status: 'IN_STOCK', holder: null } }],
        },
      }),
      CopyKeyConfiguration: () => ({
        copyKeyConfiguration: {
          key: null,
          copied: [],
          programmingJobs: [],
          errors: [
            {
              field: 'targetKeyId',
              code: 'UNSUPPORTED_KEY_TYPE',
              message: 'targetKeyId: K-0035 is E2; E3 functions (extension interval) cannot be copied onto it',
            },
          ],
        },
      }),
    });
    open(client);
    await userEvent.click(await screen.findByRole('button', { name: 'Copy configuration' }));
    const dialog = await screen.findByRole('dialog', { name: 'Copy the configuration of K-0018' });

    await userEvent.click(within(dialog).getByRole('button', { name: 'Show what will be copied' }));
    expect(within(dialog).getByText('Required')).toBeTruthy();
    expect(calls.CopyKeyConfiguration).toBeUndefined();

    await userEvent.type(within(dialog).getByRole('textbox', { name: 'Copy to key' }), 'K-0035');
    await userEvent.click(await screen.findByRole('option', { name: 'K-0035 · E2 · In stock' }));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Show what will be copied' }));

    expect(await within(dialog).findByText('This key cannot take the configuration')).toBeTruthy();
    expect(within(dialog).getByText(/K-0035 is E2; E3 functions/)).toBeTruthy();
    expect(calls.CopyKeyConfiguration[0]).toEqual({
      input: { sourceKeyId: 'k18', targetKeyId: 'k35', dryRun: true },
    });
    expect((within(dialog).getByRole('button', { name: 'Copy configuration' }) as HTMLButtonElement).disabled).toBe(
      true,
    );
  });

  it('shows what will be copied before it copies', async () => {
    const copied = [
      { what: 'schedule', detail: 'Always' },
      { what: 'validity', detail: 'always valid' },
      { what: 'validation', detail: 'every 168 h' },
      { what: 'authorization', detail: 'cylinder B-011 Office' },
    ];
    const { client, calls } = keyServer('LOST', {
      KeyOptions: () => ({
        keys: { edges: [{ node: { id: 'k38', marking: 'K-0038', type: 'E3', status: 'IN_STOCK', holder: null } }] },
      }),
      CopyKeyConfiguration: (v) => ({
        copyKeyConfiguration: {
          key: { id: 'k38', marking: 'K-0038' },
          copied,
          programmingJobs: (v.input as { dryRun: boolean }).dryRun ? [] : [removal('j9', 'B-011 Office')],
          errors: [],
        },
      }),
    });
    open(client);
    await userEvent.click(await screen.findByRole('button', { name: 'Copy configuration' }));
    const dialog = await screen.findByRole('dialog', { name: 'Copy the configuration of K-0018' });
    await userEvent.type(within(dialog).getByRole('textbox', { name: 'Copy to key' }), 'K-0038');
    await userEvent.click(await screen.findByRole('option', { name: 'K-0038 · E3 · In stock' }));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Show what will be copied' }));

    const preview = await within(dialog).findByRole('list', { name: 'What will be copied' });
    expect(within(preview).getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      'Schedule: Always',
      'Validity: Always valid',
      'Revalidation interval: 168 hours',
      'Direct authorization: B-011 Office',
    ]);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Copy configuration' }));
    expect(await screen.findByRole('region', { name: 'Configuration of K-0018 copied to K-0038' })).toBeTruthy();
    expect(calls.CopyKeyConfiguration.map((v) => (v.input as { dryRun: boolean }).dryRun)).toEqual([true, false]);
  });

  it('issues a key with a validity, and shows the server’s error next to the field it names', async () => {
    const { client, calls } = keyServer('IN_STOCK', {
      KeyFormOptions: () => ({ schedules: [ALWAYS], accessProfiles: [{ id: 'p1', name: 'All staff' }] }),
      EmployeeOptions: () => ({
        employees: { edges: [{ node: { id: 'e1', employeeNumber: '00755', firstName: 'Lars', lastName: 'Hoffmann' } }] },
      }),
      IssueKey: () => ({
        issueKey: {
          key: null,
          programmingJobs: [],
          remoteJobs: [],
          warnings: [],
          errors: [{ field: 'validity.validUntil', code: 'INVALID', message: 'validity: validFrom must be before validUntil' }],
        },
      }),
    });
    open(client);
    await userEvent.click(await screen.findByRole('button', { name: 'Issue' }));
    const dialog = await screen.findByRole('dialog', { name: 'Issue key K-0018' });
    await userEvent.type(within(dialog).getByRole('textbox', { name: 'Employee' }), 'Hoff');
    await userEvent.click(await screen.findByRole('option', { name: 'Hoffmann, Lars (00755)' }));
    await userEvent.click(within(dialog).getByRole('switch', { name: 'Always valid' }));
    fireEvent.change(within(dialog).getByLabelText('Valid from'), { target: { value: '2031-03-10' } });
    fireEvent.change(within(dialog).getByLabelText('Valid until'), { target: { value: '2031-03-01' } });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Issue key' }));

    const until = within(dialog).getByLabelText('Valid until');
    await waitFor(() => expect(until.getAttribute('aria-invalid')).toBe('true'));
    expect(within(dialog).getByText('validFrom must be before validUntil')).toBeTruthy();
    expect(within(dialog).getByLabelText('Valid from').getAttribute('aria-invalid')).not.toBe('true');
    const input = calls.IssueKey[0].input as Record<string, unknown>;
    expect(input).toMatchObject({
      keyId: 'k18',
      employeeId: 'e1',
      scheduleId: 's1',
      accessProfileIds: [],
      extensionIntervalHours: 168,
      validity: { alwaysValid: false },
    });
    const validity = input.validity as { validFrom: string; validUntil: string };
    expect(new Date(validity.validFrom).getTime()).toBe(new Date(2031, 2, 10).getTime());
  });

  it('speaks German', async () => {
    const { default: i18n } = await import('../../i18n');
    await i18n.changeLanguage('de');
    try {
      const { client } = keyServer('ISSUED');
      open(client);
      expect(await screen.findByRole('heading', { name: 'Schlüssel K-0018' })).toBeTruthy();
      expect(screen.getByRole('cell', { name: 'Zutrittsprofil Cleaning des Inhabers' })).toBeTruthy();
      expect(screen.getByRole('button', { name: 'Als verloren melden' })).toBeTruthy();
      expect(screen.getByText('2 von 3 programmiert')).toBeTruthy();
    } finally {
      await i18n.changeLanguage('en');
    }
  });
});
