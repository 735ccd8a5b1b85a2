import { Button, Group, MultiSelect, SimpleGrid, Stack, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { FormError } from '../../components/Feedback';
import { DomainSelect } from '../../components/ListControls';
import { graphql } from '../../gql';
import type {
  CreateEmployeeMutation,
  EmployeeRowFragment,
  ProgrammingJobRowFragment,
  UpdateEmployeeMutation,
} from '../../gql/graphql';
import { usePayloadMutation } from '../../hooks/usePayloadMutation';
import { useSession } from '../../session';
import {
  createInput,
  displayName,
  EMPTY_FIELDS,
  FIELD_NAMES,
  fieldsOf,
  updateInput,
  type EmployeeFields,
} from './employeeModel';

/** What a row of the employees list shows, and what the form edits. */
export const EmployeeRowFields = graphql(`
  fragment EmployeeRow on Employee {
    id
    employeeNumber
    firstName
    lastName
    email
    department
    phone
    domain {
      id
      name
    }
    keys {
      id
    }
    accessProfiles {
      id
      name
    }
  }
`);

/** What createEmployee and updateEmployee answer: the employee, the jobs made, errors. */
export const EmployeeOutcomeFields = graphql(`
  fragment EmployeeOutcome on EmployeePayload {
    employee {
      ...EmployeeRow
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

const CreateEmployeeDocument = graphql(`
  mutation CreateEmployee($input: CreateEmployeeInput!) {
    createEmployee(input: $input) {
      ...EmployeeOutcome
    }
  }
`);

const UpdateEmployeeDocument = graphql(`
  mutation UpdateEmployee($input: UpdateEmployeeInput!) {
    updateEmployee(input: $input) {
      ...EmployeeOutcome
    }
  }
`);

const AccessProfileOptionsDocument = graphql(`
  query AccessProfileOptions {
    accessProfiles {
      id
      name
    }
  }
`);

const FIELDS = [...FIELD_NAMES, 'domainId', 'accessProfileIds', 'employeeId'];
const createdOf = (data: CreateEmployeeMutation) => data.createEmployee;
const updatedOf = (data: UpdateEmployeeMutation) => data.updateEmployee;

/** What a saved employee form did: who, and the programming jobs the change made (R13, R15). */
export interface EmployeeOutcome {
  title: string;
  programmingJobs: readonly ProgrammingJobRowFragment[];
}

/** Create an employee (``employee`` null) or change one, with the access profiles that apply to
 * every key they hold (R13): the server makes the programming jobs this implies, shown after. */
export function EmployeeForm({
  employee,
  onDone,
  onCancel,
}: {
  employee: EmployeeRowFragment | null;
  onDone: (outcome: EmployeeOutcome) => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const { viewer } = useSession();
  const rights = viewer?.myRights ?? [];
  // Profiles change what the employee's keys open: the server wants keys.write too (R13).
  const withProfiles = employee !== null && rights.includes('keys.write') && rights.includes('keys.read');
  const before = employee ? fieldsOf(employee) : EMPTY_FIELDS;
  const profilesBefore = employee?.accessProfiles.map((p) => p.id) ?? [];
  const [fields, setFields] = useState<EmployeeFields>(before);
  const [domainId, setDomainId] = useState<string | null>(null);
  const [profiles, setProfiles] = useState<string[]>(profilesBefore);
  const [options] = useQuery({ query: AccessProfileOptionsDocument, pause: !withProfiles });
  const create = usePayloadMutation(CreateEmployeeDocument, createdOf, FIELDS);
  const update = usePayloadMutation(UpdateEmployeeDocument, updatedOf, FIELDS);
  const mutation = employee ? update : create;
  const errors = mutation.errors;

  function change(name: keyof EmployeeFields, value: string) {
    mutation.clear();
    setFields((f) => ({ ...f, [name]: value }));
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const payload = employee
      ? await update.submit({
          input: updateInput(employee.id, before, fields, profilesBefore, withProfiles ? profiles : null),
        })
      : await create.submit({ input: createInput(fields, domainId) });
    if (payload?.employee) {
      const name = displayName(payload.employee);
      onDone({
        title: t(employee ? 'employees.saved' : 'employees.created', { name }),
        programmingJobs: payload.programmingJobs,
      });
    }
  }

  const text = (name: keyof EmployeeFields, extra: { required?: boolean; type?: string } = {}) => (
    <TextInput
      label={t(`employees.field.${name}`)}
      value={fields[name]}
      onChange={(e) => change(name, e.currentTarget.value)}
      error={errors[name]}
      required={extra.required}
      type={extra.type}
      autoComplete="off"
    />
  );

  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <Stack>
        <FormError message={errors[''] ?? errors.employeeId} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          {text('firstName', { required: true })}
          {text('lastName', { required: true })}
          {text('employeeNumber')}
          {text('department')}
          {text('email', { type: 'email' })}
          {text('phone', { type: 'tel' })}
        </SimpleGrid>
        {!employee && (
          <>
            <DomainSelect value={domainId} onChange={setDomainId} />
            {errors.domainId && <FormError message={errors.domainId} />}
          </>
        )}
        {withProfiles && (
          <MultiSelect
            label={t('employees.field.accessProfiles')}
            description={t('employees.profilesHint')}
            data={options.data?.accessProfiles.map((p) => ({ value: p.id, label: p.name })) ?? []}
            value={profiles}
            onChange={(value) => {
              mutation.clear();
              setProfiles(value);
            }}
            error={errors.accessProfileIds}
            searchable
            clearable
          />
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            {t('actions.cancel')}
          </Button>
          <Button type="submit" loading={mutation.fetching}>
            {t(employee ? 'employees.save' : 'employees.create')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
