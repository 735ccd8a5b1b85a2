import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import type { ProgrammingJobRowFragment, ProgrammingJobStatus } from '../../gql/graphql';
import { renderRoute } from '../../test/render';
import { connectionPage, fakeServer, viewer } from '../../test/server';
import { JOB_PAGE_SIZE, Jobs } from './Jobs';
import { jobFilter, OPEN_JOB_SEARCH, withLiveUpdates } from './jobModel';

const ASSIGNER = ['jobs.read', 'jobs.assign', 'programming_keys.read', 'cylinders.read'];

function job(n: number, status: ProgrammingJobStatus = 'PENDING', assignee: string | null = null): ProgrammingJobRowFragment {
  return {
    id: `j${n}`,
    status,
    createdAt: '2026-12-07T10:00:00Z',
    cylinder: { id: `c${n}`, marking: `B-${String(n).padStart(3, '0')}`, securityRelevant: false },
    changes: [{ op: 'ADD' as const, key: { id: 'k9', marking: 'K-0009' }, group: null, cylinderGroup: null }],
    assignee: assignee ? { marking: assignee } : null,
  };
}

function jobsPage(jobs: ReturnType<typeof job>[]) {
  return (variables: Record<string, unknown>) => ({ programmingJobs: connectionPage(jobs, variables) });
}

const cylinderOptions = () => ({
  cylinders: { edges: [{ node: { id: 'c7', marking: 'B-007', domain: { name: 'Building B' } } }] },
});

const programmingKeys = () => ({
  programmingKeys: [
    { id: 'pr1', marking: 'PR-0001', kind: 'MAIN', holder: { firstName: 'Fay', lastName: 'Head' } },
    { id: 'pn1', marking: 'PN-0001', kind: 'SUB', holder: { firstName: 'Ian', lastName: 'Tee' } },
  ],
});

describe('the jobs filter and live updates (R15)', () => {
  it('sends only what is set', () => {
    expect(jobFilter(OPEN_JOB_SEARCH)).toEqual({ status: ['PENDING', 'ASSIGNED', 'ON_KEY'] });
    expect(jobFilter({ statuses: [], cylinderId: 'c1', assigneeId: 'pn1' })).toEqual({
      cylinderId: 'c1',
      assigneeId: 'pn1',
    });
  });

  it('shows a job as the newest event says', () => {
    const done = job(1, 'DONE');
    expect(withLiveUpdates([job(1), job(2)], new Map([['j1', done]]))).toEqual([done, job(2)]);
  });
});

describe('the programming jobs screen (issue 11 item 6)', () => {
  it('filters by status and programming key on the server', async () => {
    const { client, calls } = fakeServer({
      Viewer: viewer(ASSIGNER),
      OpenJobs: jobsPage([job(1), job(2, 'ASSIGNED', 'PN-0001')]),
      ProgrammingKeyOptions: programmingKeys,
      CylinderOptions: cylinderOptions,
    });
    renderRoute(<Jobs />, client, '/jobs', '/jobs');
    expect(await screen.findByText('2 jobs')).toBeTruthy();
    expect(calls.OpenJobs[0]).toEqual({
      filter: { status: ['PENDING', 'ASSIGNED', 'ON_KEY'] },
      first: JOB_PAGE_SIZE,
      after: null,
    });
    await userEvent.click(screen.getByRole('textbox', { name: 'Assigned to' }));
    await userEvent.click(await screen.findByRole('option', { name: 'PN-0001' }));
    await userEvent.click(screen.getByRole('textbox', { name: 'Cylinder' }));
    await userEvent.click(await screen.findByRole('option', { name: 'B-007 · Building B' }));
    await waitFor(() =>
      expect(calls.OpenJobs.at(-1)).toEqual({
        filter: { status: ['PENDING', 'ASSIGNED', 'ON_KEY'], assigneeId: 'pn1', cylinderId: 'c7' },
        first: JOB_PAGE_SIZE,
        after: null,
      }),
    );
  });

  it('assigns chosen jobs to a sub key and shows the warning beyond 30 jobs (R17)', async () => {
    const { client, calls } = fakeServer({
      Viewer: viewer(ASSIGNER),
      OpenJobs: jobsPage([job(1), job(2), job(3, 'ON_KEY', 'PR-0001')]),
      ProgrammingKeyOptions: programmingKeys,
      CylinderOptions: cylinderOptions,
      AssignJobs: () => ({
        assignProgrammingJobs: {
          programmingJobs: [job(1, 'ASSIGNED', 'PN-0001'), job(2, 'ASSIGNED', 'PN-0001')],
          warnings: [{ code: 'TOO_MANY_JOBS', message: 'programming key PN-0001 now carries 31 jobs' }],
          errors: [],
        },
      }),
    });
    renderRoute(<Jobs />, client, '/jobs', '/jobs');
    await userEvent.click(await screen.findByRole('checkbox', { name: 'Choose all open jobs on this page' }));
    // a job already on a key is not assigned again
    expect(screen.queryByRole('checkbox', { name: 'Choose the job on B-003' })).toBeNull();
    const assign = screen.getByRole('region', { name: 'Assign to a programming key' });
    expect(within(assign).getByText('2 jobs chosen.')).toBeTruthy();
    await userEvent.click(within(assign).getByRole('textbox', { name: 'Programming key' }));
    await userEvent.click(await screen.findByRole('option', { name: 'PN-0001 · sub key · Tee, Ian' }));
    await userEvent.click(within(assign).getByRole('button', { name: 'Assign 2 jobs' }));

    expect(await within(assign).findByText('2 jobs assigned to PN-0001.')).toBeTruthy();
    expect(within(assign).getByText(/now carries more than 30 jobs/)).toBeTruthy();
    expect(calls.AssignJobs[0]).toEqual({ input: { programmingKeyId: 'pn1', jobIds: ['j1', 'j2'] } });
    expect(within(assign).getByText('No job chosen: choose open jobs in the list.')).toBeTruthy();
  });

  it('goes back to the first page when the filter changes, and drops a chosen job that went onto a key', async () => {
    const all = Array.from({ length: 30 }, (_, i) => job(i + 1));
    const { client, calls, push } = fakeServer({
      Viewer: viewer(ASSIGNER),
      OpenJobs: (v) => ({ programmingJobs: connectionPage(all, v) }),
      ProgrammingKeyOptions: programmingKeys,
      CylinderOptions: cylinderOptions,
    });
    renderRoute(<Jobs />, client, '/jobs', '/jobs');
    await userEvent.click(await screen.findByRole('checkbox', { name: 'Choose the job on B-001' }));
    await userEvent.click(screen.getByRole('button', { name: 'Next page' }));
    await userEvent.click(await screen.findByRole('checkbox', { name: 'Choose the job on B-026' }));
    expect(calls.OpenJobs.at(-1)).toMatchObject({ after: '25' });
    const assign = screen.getByRole('region', { name: 'Assign to a programming key' });
    expect(within(assign).getByText('2 jobs chosen.')).toBeTruthy();

    act(() => push('JobEvents', { jobEvents: { at: '2026-12-07T11:00:00Z', programmingJob: job(1, 'ON_KEY', 'PR-0001') } }));
    await waitFor(() => expect(within(assign).getByText('1 job chosen.')).toBeTruthy());

    await userEvent.click(screen.getByRole('textbox', { name: 'Assigned to' }));
    await userEvent.click(await screen.findByRole('option', { name: 'PN-0001' }));
    await waitFor(() => expect(calls.OpenJobs.at(-1)).toMatchObject({ after: null, filter: { assigneeId: 'pn1' } }));
    expect(screen.getByText('Page 1 of 2')).toBeTruthy();
  });

  it('shows the server’s error next to the programming key it names', async () => {
    const { client } = fakeServer({
      Viewer: viewer(ASSIGNER),
      OpenJobs: jobsPage([job(1)]),
      ProgrammingKeyOptions: programmingKeys,
      CylinderOptions: cylinderOptions,
      AssignJobs: () => ({
        assignProgrammingJobs: {
          programmingJobs: [],
          warnings: [],
          errors: [{ field: 'programmingKeyId', code: 'INVALID', message: 'programming key PR-0001 is BLOCKED' }],
        },
      }),
    });
    renderRoute(<Jobs />, client, '/jobs', '/jobs');
    await userEvent.click(await screen.findByRole('checkbox', { name: 'Choose the job on B-001' }));
    const assign = screen.getByRole('region', { name: 'Assign to a programming key' });
    await userEvent.click(within(assign).getByRole('textbox', { name: 'Programming key' }));
    await userEvent.click(await screen.findByRole('option', { name: /^PR-0001/ }));
    await userEvent.click(within(assign).getByRole('button', { name: 'Assign 1 job' }));
    expect(await within(assign).findByText('programming key PR-0001 is BLOCKED')).toBeTruthy();
    expect(within(assign).getByRole('textbox', { name: 'Programming key' }).getAttribute('aria-invalid')).toBe('true');
  });

  it('changes a job’s status as the jobEvents subscription tells, without loading the list again', async () => {
    const { client, calls, push } = fakeServer({
      Viewer: viewer(['jobs.read']),
      OpenJobs: jobsPage([job(1), job(2)]),
    });
    renderRoute(<Jobs />, client, '/jobs', '/jobs');
    const table = await screen.findByRole('table', { name: 'Programming jobs, page 1' });
    await waitFor(() => expect(within(table).getAllByText('Pending')).toHaveLength(2));
    act(() => push('JobEvents', { jobEvents: { at: '2026-12-07T11:00:00Z', programmingJob: job(2, 'DONE', 'PN-0001') } }));
    expect(await within(table).findByText('Done')).toBeTruthy();
    expect(within(table).getByText('PN-0001')).toBeTruthy();
    expect(within(table).getAllByText('Pending')).toHaveLength(1);
    expect(calls.OpenJobs).toHaveLength(1);
    // reading only: nothing to choose, no assigning
    expect(screen.queryByRole('checkbox')).toBeNull();
    expect(screen.queryByRole('region', { name: 'Assign to a programming key' })).toBeNull();
  });
});
