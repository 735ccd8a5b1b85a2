import { useTranslation } from 'react-i18next';

import { graphql } from '../../gql';
import type {
  CreateCylinderGroupMutation,
  CylinderGroupRowFragment,
  UpdateCylinderGroupMutation,
} from '../../gql/graphql';
import { usePayloadMutation } from '../../hooks/usePayloadMutation';
import { GroupForm } from './GroupForm';

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
  const create = usePayloadMutation(CreateCylinderGroupDocument, createdOf, FIELDS);
  const update = usePayloadMutation(UpdateCylinderGroupDocument, updatedOf, FIELDS);
  return (
    <GroupForm
      initialName={group?.name ?? ''}
      initialMembers={group?.cylinders.map((c) => c.id) ?? []}
      known={group?.cylinders.map((c) => ({ value: c.id, label: `${c.marking} · ${c.domain.name}` })) ?? []}
      kind="cylinder"
      membersField="cylinderIds"
      texts={{
        name: t('cylinderGroups.name'),
        members: t('cylinderGroups.cylinders'),
        membersHint: t('cylinderGroups.cylindersHint'),
        submit: t(group ? 'cylinderGroups.save' : 'cylinderGroups.create'),
      }}
      mutation={group ? update : create}
      save={(name, cylinderIds) =>
        group
          ? update.submit({ input: { cylinderGroupId: group.id, name, cylinderIds } })
          : create.submit({ input: { name, cylinderIds } })
      }
      onDone={onDone}
      onCancel={onCancel}
    />
  );
}
