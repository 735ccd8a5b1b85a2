import { Group, MultiSelect, Select, Stack, Title } from '@mantine/core';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery, useSubscription } from 'urql';

import { RequestError } from '../../components/Feedback';
import { ListCount } from '../../components/ListControls';
import { OpenJobsDocument } from '../../components/OpenJobsSection';
import { cursorControls, Pager } from '../../components/Pager';
import { SearchPicker } from '../../components/Pickers';
import { JOB_STATUS_COLOR, ProgrammingJobsTable } from '../../components/ProgrammingJobsTable';
import { graphql } from '../../gql';
import type { ProgrammingJobRowFragment, ProgrammingJobStatus } from '../../gql/graphql';
import { useServerList } from '../../hooks/useServerList';
import { useSession } from '../../session';
import { AssignJobs } from './AssignJobs';
import { canAssign, jobFilter, OPEN_JOB_SEARCH, toggleJobs, withLiveUpdates, type JobSearch } from './jobModel';

export const JOB_PAGE_SIZE = 25;

const ProgrammingKeysDocument = graphql(`
  query ProgrammingKeyOptions {
    programmingKeys {
      id
      marking
      kind
      holder {
        firstName
        lastName
      }
    }
  }
`);

const JobEventsDocument = graphql(`
  subscription JobEvents {
    jobEvents {
      at
      programmingJob {
        ...ProgrammingJobRow
      }
    }
  }
`);

const STATUSES = Object.keys(JOB_STATUS_COLOR) as ProgrammingJobStatus[];
type Live = ReadonlyMap<string, ProgrammingJobRowFragment>;

/** The programming jobs (issue 11 item 6): filtered by status, cylinder and programming key, paged
 * by the server; open jobs are chosen here and assigned to a programming key (R17); every job
 * shown changes its status as it happens, told by the jobEvents subscription (R15). */
export function Jobs() {
  const { t } = useTranslation();
  const { viewer } = useSession();
  const rights = viewer?.myRights ?? [];
  const seesKeys = rights.includes('programming_keys.read');
  const seesCylinders = rights.includes('cylinders.read');
  const assigning = rights.includes('jobs.assign') && seesKeys;
  const [criteria, setCriteria] = useState<JobSearch>(OPEN_JOB_SEARCH);
  const change = (part: Partial<JobSearch>) => setCriteria((c) => ({ ...c, ...part }));
  const { filter, pager } = useServerList(criteria, jobFilter);
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());

  const [{ data, fetching, error }, reexecute] = useQuery({
    query: OpenJobsDocument,
    variables: { filter, first: JOB_PAGE_SIZE, after: pager.after },
  });
  const [keys] = useQuery({ query: ProgrammingKeysDocument, pause: !seesKeys });
  const [live] = useSubscription({ query: JobEventsDocument }, (seen: Live = new Map(), event) => {
    const job = event.jobEvents.programmingJob;
    if (!job) return seen;
    return new Map(seen).set(job.id, job);
  });
  const jobs = data?.programmingJobs;
  const rows = useMemo(
    () => withLiveUpdates(jobs?.edges.map((e) => e.node) ?? [], live.data ?? new Map()),
    [jobs, live.data],
  );
  const pages = jobs ? Math.max(1, Math.ceil(jobs.totalCount / JOB_PAGE_SIZE)) : undefined;
  // A chosen job that meanwhile went onto a key or was done is no longer offered for assigning.
  const assignable = [...chosen].filter((id) => {
    const now = live.data?.get(id);
    return !now || canAssign(now);
  });
  const selection = assigning
    ? {
        chosen,
        canChoose: canAssign,
        toggle: (some: readonly ProgrammingJobRowFragment[], on: boolean) => setChosen((c) => toggleJobs(c, some, on)),
      }
    : undefined;

  return (
    <Stack>
      <Title order={2}>{t('jobsScreen.title')}</Title>
      <Group align="flex-end" gap="sm">
        <MultiSelect
          label={t('jobs.status')}
          placeholder={criteria.statuses.length ? undefined : t('jobsScreen.allStatuses')}
          data={STATUSES.map((s) => ({ value: s, label: t(`jobStatus.${s}`) }))}
          value={criteria.statuses}
          onChange={(statuses) => change({ statuses: statuses as ProgrammingJobStatus[] })}
          w={320}
          maw="100%"
          clearable
        />
        {seesCylinders && (
          <SearchPicker
            kind="cylinder"
            label={t('jobs.cylinder')}
            value={criteria.cylinderId}
            onChange={(cylinderId) => change({ cylinderId })}
          />
        )}
        {seesKeys && (
          <Select
            label={t('jobs.assignee')}
            placeholder={t('jobsScreen.anyKey')}
            data={keys.data?.programmingKeys.map((k) => ({ value: k.id, label: k.marking })) ?? []}
            value={criteria.assigneeId}
            onChange={(assigneeId) => change({ assigneeId })}
            w={240}
            maw="100%"
            clearable
          />
        )}
      </Group>
      <Group justify="flex-end">
        <ListCount total={jobs?.totalCount} label="jobs.count" />
      </Group>
      <RequestError error={error} />
      <ProgrammingJobsTable
        jobs={rows}
        caption={t('jobsScreen.table', { page: pager.pageIndex + 1 })}
        empty={jobs ? t('jobs.none') : ''}
        selection={selection}
        busy={fetching}
      />
      <Pager controls={cursorControls(pager, jobs?.pageInfo, pages)} label={t('jobsScreen.title')} always />
      {assigning && (
        <AssignJobs
          jobIds={assignable}
          programmingKeys={keys.data?.programmingKeys ?? []}
          onAssigned={() => {
            setChosen(new Set());
            reexecute({ requestPolicy: 'network-only' });
          }}
        />
      )}
    </Stack>
  );
}
