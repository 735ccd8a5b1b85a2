import { Alert, Paper, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

import { Warnings } from '../../components/Feedback';
import { ProgrammingJobsTable } from '../../components/ProgrammingJobsTable';
import { graphql } from '../../gql';
import type { KeyCardKeyFragment, KeyOutcomeFragment, ProgrammingJobRowFragment } from '../../gql/graphql';

/** What a key mutation answers (R15, R18): the key as it is now, the jobs made, warnings. */
export const KeyOutcomeFields = graphql(`
  fragment KeyOutcome on KeyPayload {
    key {
      id
      marking
      status
    }
    programmingJobs {
      ...ProgrammingJobRow
    }
    remoteJobs {
      id
      kind
      status
    }
    warnings {
      code
      message
    }
    errors {
      field
      code
      message
    }
  }
`);

/** What a change on the key card did, shown until the next one. */
export interface Outcome {
  title: string;
  programmingJobs: readonly ProgrammingJobRowFragment[];
  remoteJobs?: readonly { id: string; kind: string }[];
  warnings?: readonly { code: string; message: string }[];
  /** more about the change, e.g. what was copied */
  details?: ReactNode;
}

/** What every form of the key card is given: the key, and what to do when done or cancelled. */
export interface KeyFormProps {
  keyData: KeyCardKeyFragment;
  onDone: (outcome: Outcome) => void;
  onCancel: () => void;
}

/** A key mutation's answer as the card shows it, under ``title``. */
export function keyOutcome(title: string, payload: KeyOutcomeFragment): Outcome {
  return {
    title,
    programmingJobs: payload.programmingJobs,
    remoteJobs: payload.remoteJobs,
    warnings: payload.warnings,
  };
}

/** The change done: the programming jobs it made (R15), the remote jobs waiting for the key at a
 * remote device (R18), and the server's warnings. */
export function OutcomeView({ outcome }: { outcome: Outcome }) {
  const { t } = useTranslation();
  const remote = outcome.remoteJobs ?? [];
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="outcome-title">
      <Stack gap="sm">
        <Alert color="green" variant="light" role="status">
          <Title order={3} size="h5" id="outcome-title">
            {outcome.title}
          </Title>
          <Text size="sm">{t('outcome.programmingJobs', { count: outcome.programmingJobs.length })}</Text>
          {remote.length > 0 && (
            <Text size="sm">
              {t('outcome.remoteJobs', {
                count: remote.length,
                kinds: remote.map((j) => t(`remoteJobKind.${j.kind}`)).join(', '),
              })}
            </Text>
          )}
        </Alert>
        <Warnings warnings={outcome.warnings ?? []} />
        {outcome.details}
        {outcome.programmingJobs.length > 0 && (
          <ProgrammingJobsTable
            jobs={outcome.programmingJobs}
            caption={t('outcome.jobsTable')}
            empty={t('jobs.none')}
          />
        )}
      </Stack>
    </Paper>
  );
}
