import type { ProgrammingJobFilter, ProgrammingJobRowFragment, ProgrammingJobStatus } from '../../gql/graphql';

/** Jobs that can still be assigned to a programming key (R17): pending, or assigned (moved). */
export const ASSIGNABLE_STATUSES: ReadonlySet<string> = new Set(['PENDING', 'ASSIGNED']);

export const canAssign = (job: { status: string }) => ASSIGNABLE_STATUSES.has(job.status);

/** The jobs list's filter as the user sets it. */
export interface JobSearch {
  statuses: ProgrammingJobStatus[];
  cylinderId: string | null;
  assigneeId: string | null;
}

/** The server's ProgrammingJobFilter: only what is set. */
export function jobFilter(search: JobSearch): ProgrammingJobFilter {
  const filter: ProgrammingJobFilter = {};
  if (search.statuses.length) filter.status = search.statuses;
  if (search.cylinderId) filter.cylinderId = search.cylinderId;
  if (search.assigneeId) filter.assigneeId = search.assigneeId;
  return filter;
}

/** Open jobs first: what is still to be done at the cylinders (R15). */
export const OPEN_JOB_SEARCH: JobSearch = { statuses: ['PENDING', 'ASSIGNED', 'ON_KEY'], cylinderId: null, assigneeId: null };

/** A page of jobs with what the jobEvents subscription told since it loaded (R15): a job
 * shown takes its newest state, so its status changes before your eyes. */
export function withLiveUpdates(
  rows: readonly ProgrammingJobRowFragment[],
  live: ReadonlyMap<string, ProgrammingJobRowFragment>,
): ProgrammingJobRowFragment[] {
  return rows.map((row) => live.get(row.id) ?? row);
}

/** Chosen jobs after (un)choosing ``jobs``; a job no longer assignable drops out. */
export function toggleJobs(
  chosen: ReadonlySet<string>,
  jobs: readonly { id: string }[],
  on: boolean,
): Set<string> {
  const next = new Set(chosen);
  for (const job of jobs) {
    if (on) next.add(job.id);
    else next.delete(job.id);
  }
  return next;
}
