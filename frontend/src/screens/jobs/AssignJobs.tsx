import { Alert, Button, Group, Paper, Select, Stack, Text, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';

import { FormError, Warnings } from '../../components/Feedback';
import { graphql } from '../../gql';
import type { AssignJobsMutation } from '../../gql/graphql';
import { usePayloadMutation } from '../../hooks/usePayloadMutation';

const AssignJobsDocument = graphql(`
  mutation AssignJobs($input: AssignProgrammingJobsInput!) {
    assignProgrammingJobs(input: $input) {
      programmingJobs {
        ...ProgrammingJobRow
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
  }
`);

const FIELDS = ['programmingKeyId', 'jobIds'];
const payloadOf = (data: AssignJobsMutation) => data.assignProgrammingJobs;

export interface ProgrammingKeyOption {
  id: string;
  marking: string;
  kind: string;
  holder?: { firstName: string; lastName: string } | null;
}

/** What an assignment did: how many jobs went to which key, and the server's warnings (R17:
 * more than 30 jobs on one key). */
interface Assigned {
  count: number;
  marking: string;
  warnings: readonly { code: string; message: string }[];
}

/** Give the chosen open jobs to a programming key (R17): its holder carries them to the
 * cylinders. The server warns when the key would carry more than 30 jobs; the warning stays
 * shown until the next assignment. */
export function AssignJobs({
  jobIds,
  programmingKeys,
  onAssigned,
}: {
  jobIds: readonly string[];
  programmingKeys: readonly ProgrammingKeyOption[];
  onAssigned: () => void;
}) {
  const { t } = useTranslation();
  const [keyId, setKeyId] = useState<string | null>(null);
  const [assigned, setAssigned] = useState<Assigned | null>(null);
  const assign = usePayloadMutation(AssignJobsDocument, payloadOf, FIELDS);
  const errors = assign.errors;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setAssigned(null);
    if (!keyId) return;
    const payload = await assign.submit({ input: { programmingKeyId: keyId, jobIds: [...jobIds] } });
    if (payload) {
      const marking = programmingKeys.find((k) => k.id === keyId)?.marking ?? '';
      setAssigned({ count: payload.programmingJobs.length, marking, warnings: payload.warnings });
      onAssigned();
    }
  }

  const options = programmingKeys.map((k) => ({
    value: k.id,
    label: `${k.marking} · ${t(`programmingKeyKind.${k.kind}`, { defaultValue: k.kind })}${
      k.holder ? ` · ${k.holder.lastName}, ${k.holder.firstName}` : ''
    }`,
  }));

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="assign-jobs">
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Stack gap="sm">
          <Title order={3} size="h4" id="assign-jobs">
            {t('assign.title')}
          </Title>
          <Text size="sm" aria-live="polite">
            {t('assign.chosen', { count: jobIds.length })}
          </Text>
          <FormError message={errors[''] ?? errors.jobIds} />
          <Group align="flex-end" gap="sm">
            <Select
              label={t('assign.key')}
              placeholder={t('assign.chooseKey')}
              data={options}
              value={keyId}
              onChange={(value) => {
                assign.clear();
                setKeyId(value);
              }}
              error={errors.programmingKeyId}
              searchable
              w={340}
              maw="100%"
            />
            <Button type="submit" disabled={!keyId || jobIds.length === 0} loading={assign.fetching}>
              {t('assign.submit', { count: jobIds.length })}
            </Button>
          </Group>
          {assigned && (
            <Alert color="green" variant="light" role="status">
              {t('assign.done', { count: assigned.count, marking: assigned.marking })}
            </Alert>
          )}
          {assigned && <Warnings warnings={assigned.warnings} />}
        </Stack>
      </form>
    </Paper>
  );
}
