import { Button, Group, Stack, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';

import { FormError } from '../../components/Feedback';
import { graphql } from '../../gql';
import type { CreateScheduleMutation, UpdateScheduleMutation } from '../../gql/graphql';
import { usePayloadMutation } from '../../hooks/usePayloadMutation';
import { newWindow, SCHEDULE_FIELDS, windowsInput, type WindowDraft } from './scheduleModel';
import { WeeklyGrid } from './WeeklyGrid';

export const ScheduleRowFields = graphql(`
  fragment ScheduleRow on Schedule {
    id
    name
    windows {
      days
      start
      end
    }
  }
`);

export const ScheduleOutcomeFields = graphql(`
  fragment ScheduleOutcome on SchedulePayload {
    schedule {
      ...ScheduleRow
    }
    remoteJobs {
      id
      kind
      status
      key {
        id
        marking
      }
    }
    errors {
      field
      code
      message
    }
  }
`);

const CreateScheduleDocument = graphql(`
  mutation CreateSchedule($input: CreateScheduleInput!) {
    createSchedule(input: $input) {
      ...ScheduleOutcome
    }
  }
`);

const UpdateScheduleDocument = graphql(`
  mutation UpdateSchedule($input: UpdateScheduleInput!) {
    updateSchedule(input: $input) {
      ...ScheduleOutcome
    }
  }
`);

const createdOf = (data: CreateScheduleMutation) => data.createSchedule;
const updatedOf = (data: UpdateScheduleMutation) => data.updateSchedule;

/** What a saved schedule answers: the schedule and the remote jobs its keys get (R12, R18). */
export type ScheduleOutcome = CreateScheduleMutation['createSchedule'];

/** Create a schedule, or edit ``schedule``: its name and its weekly grid. */
export function ScheduleForm({
  schedule,
  onDone,
  onCancel,
}: {
  schedule: { id: string; name: string; windows: readonly WindowDraft[] } | null;
  onDone: (outcome: ScheduleOutcome) => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const [name, setName] = useState(schedule?.name ?? '');
  const [windows, setWindows] = useState<WindowDraft[]>(
    schedule ? windowsInput(schedule.windows) : [newWindow()],
  );
  const create = usePayloadMutation(CreateScheduleDocument, createdOf, SCHEDULE_FIELDS);
  const update = usePayloadMutation(UpdateScheduleDocument, updatedOf, SCHEDULE_FIELDS);
  const mutation = schedule ? update : create;
  const errors = mutation.errors;

  async function submit(event: FormEvent) {
    event.preventDefault();
    const payload = schedule
      ? await update.submit({ input: { scheduleId: schedule.id, name, windows: windowsInput(windows) } })
      : await create.submit({ input: { name, windows: windowsInput(windows) } });
    if (payload) onDone(payload);
  }

  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <Stack>
        <FormError message={errors['']} />
        <TextInput
          label={t('schedules.name')}
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={errors.name}
          required
          data-autofocus
        />
        <WeeklyGrid windows={windows} onChange={setWindows} errors={errors} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            {t('actions.cancel')}
          </Button>
          <Button type="submit" loading={mutation.fetching}>
            {t(schedule ? 'schedules.save' : 'schedules.create')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
