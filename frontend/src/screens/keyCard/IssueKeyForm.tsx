import { Alert, Button, Group, MultiSelect, NumberInput, Select, Stack } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { FormError } from '../../components/Feedback';
import { SearchPicker } from '../../components/Pickers';
import { graphql } from '../../gql';
import type { IssueKeyMutation } from '../../gql/graphql';
import { usePayloadMutation } from '../../hooks/usePayloadMutation';
import { ALWAYS_VALID, validityInput, type ValidityForm } from './keyModel';
import { keyOutcome, type KeyFormProps } from './Outcome';
import { ValidityFields } from './ValidityFields';

const KeyFormOptionsDocument = graphql(`
  query KeyFormOptions {
    schedules {
      id
      name
    }
    accessProfiles {
      id
      name
    }
  }
`);

const IssueKeyDocument = graphql(`
  mutation IssueKey($input: IssueKeyInput!) {
    issueKey(input: $input) {
      ...KeyOutcome
    }
  }
`);

const FIELDS = [
  'employeeId',
  'validity',
  'validity.validFrom',
  'validity.validUntil',
  'scheduleId',
  'accessProfileIds',
  'extensionIntervalHours',
];
const payloadOf = (data: IssueKeyMutation) => data.issueKey;

/** Hand a key in stock to an employee with validity, schedule, access profiles and, for an E3
 * key, its revalidation interval (R10–R14). */
export function IssueKeyForm({
  keyData,
  onDone,
  onCancel,
}: KeyFormProps) {
  const { t } = useTranslation();
  const [options] = useQuery({ query: KeyFormOptionsDocument });
  const [employeeId, setEmployeeId] = useState<string | null>(null);
  const [validity, setValidity] = useState<ValidityForm>(ALWAYS_VALID);
  const [scheduleId, setScheduleId] = useState<string | null>(keyData.schedule.id);
  const [profileIds, setProfileIds] = useState<string[]>([]);
  const [interval, setInterval] = useState<string | number>(keyData.extensionIntervalHours ?? '');
  const [missing, setMissing] = useState(false);
  const issue = usePayloadMutation(IssueKeyDocument, payloadOf, FIELDS);
  const clock = keyData.type !== 'E1';
  const errors = issue.errors;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!employeeId) {
      setMissing(true);
      return;
    }
    const payload = await issue.submit({
      input: {
        keyId: keyData.id,
        employeeId,
        validity: clock ? validityInput(validity) : null,
        scheduleId: clock ? scheduleId : null,
        accessProfileIds: profileIds,
        extensionIntervalHours: keyData.type === 'E3' && interval !== '' ? Number(interval) : null,
      },
    });
    if (payload) {
      onDone(keyOutcome(t('issue.done', { marking: keyData.marking }), payload));
    }
  }

  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <Stack>
        <FormError message={errors['']} />
        <SearchPicker
          kind="employee"
          label={t('issue.employee')}
          value={employeeId}
          onChange={(value) => {
            setEmployeeId(value);
            setMissing(false);
          }}
          error={errors.employeeId ?? (missing ? t('errors.required') : undefined)}
          required
        />
        {clock ? (
          <>
            <ValidityFields value={validity} onChange={setValidity} errors={errors} />
            <Select
              label={t('keyCard.schedule')}
              data={options.data?.schedules.map((s) => ({ value: s.id, label: s.name })) ?? []}
              value={scheduleId}
              onChange={setScheduleId}
              allowDeselect={false}
              error={errors.scheduleId}
            />
          </>
        ) : (
          <Alert color="gray" variant="light">
            {t('issue.noClock')}
          </Alert>
        )}
        <MultiSelect
          label={t('keyCard.accessProfiles')}
          data={options.data?.accessProfiles.map((p) => ({ value: p.id, label: p.name })) ?? []}
          value={profileIds}
          onChange={setProfileIds}
          searchable
          error={errors.accessProfileIds}
        />
        {keyData.type === 'E3' && (
          <NumberInput
            label={t('keyCard.extensionInterval')}
            description={t('issue.intervalHelp')}
            suffix=" h"
            min={1}
            allowDecimal={false}
            value={interval}
            onChange={setInterval}
            error={errors.extensionIntervalHours}
          />
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            {t('actions.cancel')}
          </Button>
          <Button type="submit" loading={issue.fetching}>
            {t('issue.submit')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
