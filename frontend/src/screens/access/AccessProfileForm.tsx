import { Button, Group, NumberInput, Select, Stack, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { FormError } from '../../components/Feedback';
import { SearchMultiPicker } from '../../components/Pickers';
import { graphql } from '../../gql';
import type {
  AccessProfileRowFragment,
  CreateAccessProfileMutation,
  UpdateAccessProfileMutation,
} from '../../gql/graphql';
import { usePayloadMutation } from '../../hooks/usePayloadMutation';

export const AccessProfileRowFields = graphql(`
  fragment AccessProfileRow on AccessProfile {
    id
    name
    extensionIntervalHours
    schedule {
      id
      name
    }
    cylinders {
      id
      marking
      domain {
        name
      }
    }
  }
`);

export const AccessProfileOutcomeFields = graphql(`
  fragment AccessProfileOutcome on AccessProfilePayload {
    accessProfile {
      ...AccessProfileRow
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

const ScheduleOptionsDocument = graphql(`
  query ScheduleOptions {
    schedules {
      id
      name
    }
  }
`);

const CreateAccessProfileDocument = graphql(`
  mutation CreateAccessProfile($input: CreateAccessProfileInput!) {
    createAccessProfile(input: $input) {
      ...AccessProfileOutcome
    }
  }
`);

const UpdateAccessProfileDocument = graphql(`
  mutation UpdateAccessProfile($input: UpdateAccessProfileInput!) {
    updateAccessProfile(input: $input) {
      ...AccessProfileOutcome
    }
  }
`);

const FIELDS = ['name', 'cylinderIds', 'scheduleId', 'extensionIntervalHours', 'accessProfileId'];
const createdOf = (data: CreateAccessProfileMutation) => data.createAccessProfile;
const updatedOf = (data: UpdateAccessProfileMutation) => data.updateAccessProfile;

/** What a saved profile answers: the profile and the programming jobs it made (R15). */
export type AccessProfileOutcome = CreateAccessProfileMutation['createAccessProfile'];

/** Create an access profile, or edit ``profile`` (R13, R14): its name, its cylinders (searched
 * on the server), its schedule and its extension interval (empty: the key's own applies). */
export function AccessProfileForm({
  profile,
  onDone,
  onCancel,
}: {
  profile: AccessProfileRowFragment | null;
  onDone: (outcome: AccessProfileOutcome) => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const [name, setName] = useState(profile?.name ?? '');
  const [cylinderIds, setCylinderIds] = useState<string[]>(profile?.cylinders.map((c) => c.id) ?? []);
  const [scheduleId, setScheduleId] = useState<string | null>(profile?.schedule.id ?? null);
  const [interval, setInterval] = useState<number | string>(profile?.extensionIntervalHours ?? '');
  const [schedules] = useQuery({ query: ScheduleOptionsDocument });
  const create = usePayloadMutation(CreateAccessProfileDocument, createdOf, FIELDS);
  const update = usePayloadMutation(UpdateAccessProfileDocument, updatedOf, FIELDS);
  const mutation = profile ? update : create;
  const errors = mutation.errors;
  const known = profile?.cylinders.map((c) => ({ value: c.id, label: `${c.marking} · ${c.domain.name}` })) ?? [];

  async function submit(event: FormEvent) {
    event.preventDefault();
    const extensionIntervalHours = interval === '' ? null : Number(interval);
    const payload = profile
      ? await update.submit({
          input: { accessProfileId: profile.id, name, cylinderIds, scheduleId, extensionIntervalHours },
        })
      : await create.submit({ input: { name, cylinderIds, scheduleId, extensionIntervalHours } });
    if (payload) onDone(payload);
  }

  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <Stack>
        <FormError message={errors['']} />
        <TextInput
          label={t('accessProfiles.name')}
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={errors.name}
          required
          data-autofocus
        />
        <SearchMultiPicker
          kind="cylinder"
          label={t('accessProfiles.cylinders')}
          value={cylinderIds}
          onChange={setCylinderIds}
          known={known}
          error={errors.cylinderIds}
        />
        <Select
          label={t('accessProfiles.schedule')}
          description={t('accessProfiles.scheduleHint')}
          data={schedules.data?.schedules.map((s) => ({ value: s.id, label: s.name })) ?? []}
          value={scheduleId}
          onChange={setScheduleId}
          error={errors.scheduleId}
          clearable
          searchable
        />
        <NumberInput
          label={t('accessProfiles.interval')}
          description={t('accessProfiles.intervalHint')}
          value={interval}
          onChange={setInterval}
          error={errors.extensionIntervalHours}
          min={1}
          allowDecimal={false}
          allowNegative={false}
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            {t('actions.cancel')}
          </Button>
          <Button type="submit" loading={mutation.fetching}>
            {t(profile ? 'accessProfiles.save' : 'accessProfiles.create')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
