import { Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { graphql } from '../gql';
import type { ProgrammingJobFilter } from '../gql/graphql';
import { useCursorPager } from '../hooks/useCursorPager';
import { useFormats } from '../hooks/useFormats';
import { useRefetchOn } from '../hooks/useRefetchOn';
import { RequestError } from './Feedback';
import { cursorControls, Pager } from './Pager';
import { ProgrammingJobsTable } from './ProgrammingJobsTable';
import { Section, SECTION_PAGE_SIZE } from './Section';

/** A page of programming jobs by a filter: a card's open jobs, the jobs screen's list. */
export const OpenJobsDocument = graphql(`
  query OpenJobs($filter: ProgrammingJobFilter!, $first: Int, $after: String) {
    programmingJobs(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...ProgrammingJobRow
        }
      }
    }
  }
`);

/** The programming jobs still to be carried out (R15) for a key (those adding or removing it,
 * R19) or a cylinder, a page at a time; asked again when ``version`` moves on. ``filter``
 * must keep its identity between renders. */
export function OpenJobsSection({
  id,
  filter,
  version,
  withCylinder = true,
}: {
  id: string;
  filter: ProgrammingJobFilter;
  version: number;
  withCylinder?: boolean;
}) {
  const { t } = useTranslation();
  const formats = useFormats();
  const pager = useCursorPager();
  const [{ data, error }, reexecute] = useQuery({
    query: OpenJobsDocument,
    variables: { filter, first: SECTION_PAGE_SIZE, after: pager.after },
  });
  useRefetchOn(version, reexecute);
  const jobs = data?.programmingJobs;
  return (
    <Section
      id={id}
      title={t('jobs.open')}
      extra={jobs && <Text size="sm">{t('jobs.count', { count: jobs.totalCount, n: formats.number(jobs.totalCount) })}</Text>}
    >
      <RequestError error={error} />
      <ProgrammingJobsTable
        jobs={jobs?.edges.map((e) => e.node) ?? []}
        caption={t('jobs.open')}
        empty={jobs ? t('jobs.noneOpen') : t('app.loading')}
        withCylinder={withCylinder}
      />
      <Pager controls={cursorControls(pager, jobs?.pageInfo)} label={t('jobs.open')} />
    </Section>
  );
}
