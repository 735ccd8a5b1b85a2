import { useTranslation } from 'react-i18next';

import { graphql } from '../../gql';
import type { CreateKeyGroupMutation, KeyGroupRowFragment, UpdateKeyGroupMutation } from '../../gql/graphql';
import { usePayloadMutation } from '../../hooks/usePayloadMutation';
import { GroupForm } from './GroupForm';

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
  const create = usePayloadMutation(CreateKeyGroupDocument, createdOf, FIELDS);
  const update = usePayloadMutation(UpdateKeyGroupDocument, updatedOf, FIELDS);
  return (
    <GroupForm
      initialName={group?.name ?? ''}
      initialMembers={group?.keys.map((k) => k.id) ?? []}
      known={group?.keys.map((k) => ({ value: k.id, label: `${k.marking} · ${k.type}` })) ?? []}
      kind="key"
      membersField="keyIds"
      texts={{
        name: t('keyGroups.name'),
        members: t('keyGroups.keys'),
        membersHint: t('keyGroups.keysHint'),
        submit: t(group ? 'keyGroups.save' : 'keyGroups.create'),
      }}
      mutation={group ? update : create}
      save={(name, keyIds) =>
        group
          ? update.submit({ input: { keyGroupId: group.id, name, keyIds } })
          : create.submit({ input: { name, keyIds } })
      }
      onDone={onDone}
      onCancel={onCancel}
    />
  );
}
