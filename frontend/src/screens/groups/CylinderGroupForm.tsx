import { Button, Group, Stack, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';

import { FormError } from '../../components/Feedback';
import { SearchMultiPicker } from '../../components/Pickers';
import { graphql } from '../../gql';
import type {
  CreateCylinderGroupMutation,
  CylinderGroupRowFragment,
  UpdateCylinderGroupMutation,
} from '../../gql/graphql';
import { usePayloadMutation } from '../../hooks/usePayloadMutation';

export const CylinderGroupRowFields = graphql(`
  fragment CylinderGroupRow on CylinderGroup {
    id
    name
    cylinders {
      id
      marking
      domain {
        name
      }
    }
  }
`);

export const CylinderGroupOutcomeFields = graphql(`
  fragment CylinderGroupOutcome on CylinderGroupPayload {
    cylinderGroup {
      ...CylinderGroupRow
    }
    programmingJobs {
      ...ProgrammingJobRow
    }
    errors {
      field
      code
      message
    }
  }
`);

const CreateCylinderGroupDocument = graphql(`
  mutation CreateCylinderGroup($input: CreateCylinderGroupInput!) {
    createCylinderGroup(input: $input) {
      ...CylinderGroupOutcome
    }
  }
`);

const UpdateCylinderGroupDocument = graphql(`
  mutation UpdateCylinderGroup($input: UpdateCylinderGroupInput!) {
    updateCylinderGroup(input: $input) {
      ...CylinderGroupOutcome
    }
  }
`);

const FIELDS = ['name', 'cylinderIds'];
const createdOf = (data: CreateCylinderGroupMutation) => data.createCylinderGroup;
const updatedOf = (data: UpdateCylinderGroupMutation) => data.updateCylinderGroup;

/** What a saved cylinder group answers: the group, the jobs of the cylinders that joined or left. */
export type CylinderGroupOutcome = CreateCylinderGroupMutation['createCylinderGroup'];

/** Create a cylinder group, or edit ``group``'s name and cylinders (R13): a cylinder that joins
 * or leaves is reprogrammed, the keys holding the group are not. */
export function CylinderGroupForm({
  group,
  onDone,
  onCancel,
}: {
  group: CylinderGroupRowFragment | null;
  onDone: (outcome: CylinderGroupOutcome) => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const [name, setName] = useState(group?.name ?? '');
  const [cylinderIds, setCylinderIds] = useState<string[]>(group?.cylinders.map((c) => c.id) ?? []);
  const create = usePayloadMutation(CreateCylinderGroupDocument, createdOf, FIELDS);
  const update = usePayloadMutation(UpdateCylinderGroupDocument, updatedOf, FIELDS);
  const mutation = group ? update : create;
  const errors = mutation.errors;
  const known = group?.cylinders.map((c) => ({ value: c.id, label: `${c.marking} · ${c.domain.name}` })) ?? [];

  async function submit(event: FormEvent) {
    event.preventDefault();
    const payload = group
      ? await update.submit({ input: { cylinderGroupId: group.id, name, cylinderIds } })
      : await create.submit({ input: { name, cylinderIds } });
    if (payload) onDone(payload);
  }

  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <Stack>
        <FormError message={errors['']} />
        <TextInput
          label={t('cylinderGroups.name')}
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={errors.name}
          required
          data-autofocus
        />
        <SearchMultiPicker
          kind="cylinder"
          label={t('cylinderGroups.cylinders')}
          description={t('cylinderGroups.cylindersHint')}
          value={cylinderIds}
          onChange={setCylinderIds}
          known={known}
          error={errors.cylinderIds}
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            {t('actions.cancel')}
          </Button>
          <Button type="submit" loading={mutation.fetching}>
            {t(group ? 'cylinderGroups.save' : 'cylinderGroups.create')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
