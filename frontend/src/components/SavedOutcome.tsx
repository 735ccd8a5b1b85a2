import { Alert, Stack, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';

import type { ProgrammingJobRowFragment } from '../gql/graphql';
import { useFormats } from '../hooks/useFormats';
import { ProgrammingJobsTable } from './ProgrammingJobsTable';

/** What saving an access object did: the programming jobs its cylinders got (R15) and, where
 * key memories change, the remote jobs that carry it (R18). ``title`` says what was saved. */
export function SavedOutcome({
  title,
  programmingJobs,
  remoteJobs,
}: {
  title: string;
  programmingJobs: readonly ProgrammingJobRowFragment[];
  remoteJobs?: readonly { kind: string }[];
}) {
  const { t } = useTranslation();
  return (
    <Stack gap="sm">
      <Alert color="green" variant="light" role="status" title={title}>
        <Text size="sm">{t('outcome.programmingJobs', { count: programmingJobs.length })}</Text>
        {remoteJobs && remoteJobs.length > 0 && (
          <Text size="sm">
            {t('outcome.remoteJobs', {
              count: remoteJobs.length,
              kinds: [...new Set(remoteJobs.map((j) => t(`remoteJobKind.${j.kind}`)))].join(', '),
            })}
          </Text>
        )}
      </Alert>
      {programmingJobs.length > 0 && (
        <ProgrammingJobsTable jobs={programmingJobs} caption={t('outcome.jobsTable')} empty="" />
      )}
    </Stack>
  );
}

/** How many markings a list cell names; the rest are counted. */
const NAMED_MARKINGS = 6;

/** A list cell naming a few markings (cylinders of a profile or group) and counting the rest. */
export function MarkingList({ markings, empty }: { markings: readonly string[]; empty: string }) {
  const { t } = useTranslation();
  const formats = useFormats();
  if (!markings.length) return <Text size="sm">{empty}</Text>;
  const more = markings.length - NAMED_MARKINGS;
  return (
    <Text size="sm">
      {markings.slice(0, NAMED_MARKINGS).join(', ')}
      {more > 0 && ` ${t('list.more', { count: more, n: formats.number(more) })}`}
    </Text>
  );
}
