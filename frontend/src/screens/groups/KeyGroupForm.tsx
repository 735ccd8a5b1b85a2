import { Button, Group, Stack, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';

import { FormError } from '../../components/Feedback';
import { SearchMultiPicker } from '../../components/Pickers';
import { graphql } from '../../gql';
import type { CreateKeyGroupMutation, KeyGroupRowFragment, UpdateKeyGroupMutation } from '../../gql/graphql';
import { usePayloadMutation } from '../../hooks/usePayloadMutation';

export const KeyGroupRowFields = graphql(`
  fragment KeyGroupRow on KeyGroup {
    id
    name
    keys {
      id
      marking
      type
    }
  }
`);

export const KeyGroupOutcomeFields = graphql(`
  fragment KeyGroupOutcome on KeyGroupPayload {
    keyGroup {
      ...KeyGroupRow
    }
    programmingJobs {
      ...ProgrammingJobRow
    }
    remoteJobs {
      id
      kind
    }
    errors {
      field
      code
      message
    }
  }
`);

const CreateKeyGroupDocument = graphql(`
  mutation CreateKeyGroup($input: CreateKeyGroupInput!) {
    createKeyGroup(input: $input) {
      ...KeyGroupOutcome
    }
  }
`);

const UpdateKeyGroupDocument = graphql(`
  mutation UpdateKeyGroup($input: UpdateKeyGroupInput!) {
    updateKeyGroup(input: $input) {
      ...KeyGroupOutcome
    }
  }
`);

const FIELDS = ['name', 'keyIds'];
const createdOf = (data: CreateKeyGroupMutation) => data.createKeyGroup;
const updatedOf = (data: UpdateKeyGroupMutation) => data.updateKeyGroup;

/** What a saved key group answers: the group, the jobs its members' joining or leaving made. */
export type KeyGroupOutcome = CreateKeyGroupMutation['createKeyGroup'];

/** Create a key group of E3 keys, or edit ``group``'s name and members (R13). */
export function KeyGroupForm({
  group,
  onDone,
  onCancel,
}: {
  group: KeyGroupRowFragment | null;
  onDone: (outcome: KeyGroupOutcome) => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const [name, setName] = useState(group?.name ?? '');
  const [keyIds, setKeyIds] = useState<string[]>(group?.keys.map((k) => k.id) ?? []);
  const create = usePayloadMutation(CreateKeyGroupDocument, createdOf, FIELDS);
  const update = usePayloadMutation(UpdateKeyGroupDocument, updatedOf, FIELDS);
  const mutation = group ? update : create;
  const errors = mutation.errors;
  const known = group?.keys.map((k) => ({ value: k.id, label: `${k.marking} · ${k.type}` })) ?? [];

  async function submit(event: FormEvent) {
    event.preventDefault();
    const payload = group
      ? await update.submit({ input: { keyGroupId: group.id, name, keyIds } })
      : await create.submit({ input: { name, keyIds } });
    if (payload) onDone(payload);
  }

  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <Stack>
        <FormError message={errors['']} />
        <TextInput
          label={t('keyGroups.name')}
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={errors.name}
          required
          data-autofocus
        />
        <SearchMultiPicker
          kind="key"
          label={t('keyGroups.keys')}
          description={t('keyGroups.keysHint')}
          value={keyIds}
          onChange={setKeyIds}
          known={known}
          error={errors.keyIds}
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            {t('actions.cancel')}
          </Button>
          <Button type="submit" loading={mutation.fetching}>
            {t(group ? 'keyGroups.save' : 'keyGroups.create')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
