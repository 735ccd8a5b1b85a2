import { Alert, Anchor, Button, Group, List, MultiSelect, SegmentedControl, Stack, Text } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useQuery } from 'urql';

import { FormError, Warnings } from '../../components/Feedback';
import { SearchMultiPicker } from '../../components/Pickers';
import { ProgrammingJobsTable } from '../../components/ProgrammingJobsTable';
import { Section } from '../../components/Section';
import { graphql } from '../../gql';
import type { ChangeAuthorizationsMutation } from '../../gql/graphql';
import { useFormats } from '../../hooks/useFormats';
import { usePayloadMutation } from '../../hooks/usePayloadMutation';
import type { Selection } from './cylinderModel';

const KeyGroupOptionsDocument = graphql(`
  query KeyGroupOptions {
    keyGroups {
      id
      name
    }
  }
`);

const ChangeAuthorizationsDocument = graphql(`
  mutation ChangeAuthorizations($input: ChangeAuthorizationsInput!) {
    changeAuthorizations(input: $input) {
      programmingJobs {
        ...ProgrammingJobRow
      }
      unchangedCylinders {
        id
        marking
      }
      skippedCylinders {
        cylinder {
          id
          marking
        }
        code
        message
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

type Op = 'add' | 'remove';
const FIELDS = ['cylinderIds', 'add', 'remove'];
const payloadOf = (data: ChangeAuthorizationsMutation) => data.changeAuthorizations;
type Result = ChangeAuthorizationsMutation['changeAuthorizations'];

/** What the list function did (R16): the jobs it made, the cylinders that held the wanted
 * state already and got none, and those that cannot take it now (defective: their replacement
 * will, R11). */
function ListFunctionResult({ result }: { result: Result }) {
  const { t } = useTranslation();
  const formats = useFormats();
  const jobs = result.programmingJobs.length;
  const unchanged = result.unchangedCylinders.length;
  const skipped = result.skippedCylinders;
  return (
    <Stack gap="sm">
      <Alert color="green" variant="light" role="status" title={t('listFunction.done')}>
        {t('listFunction.summary', {
          jobs: formats.number(jobs),
          count: jobs,
          unchanged: t('listFunction.unchangedCount', { count: unchanged, n: formats.number(unchanged) }),
        })}
      </Alert>
      <Warnings warnings={result.warnings} />
      {jobs > 0 && (
        <ProgrammingJobsTable jobs={result.programmingJobs} caption={t('listFunction.jobsMade')} empty="" />
      )}
      {unchanged > 0 && (
        <Stack gap={4}>
          <Text size="sm" fw={500} id="list-function-unchanged">
            {t('listFunction.unchanged')}
          </Text>
          <List size="sm" aria-labelledby="list-function-unchanged">
            {result.unchangedCylinders.map((c) => (
              <List.Item key={c.id}>
                <Anchor component={Link} to={`/cylinders/${c.id}`} size="sm">
                  {c.marking}
                </Anchor>
              </List.Item>
            ))}
          </List>
        </Stack>
      )}
      {skipped.length > 0 && (
        <Alert color="orange" variant="light" title={t('listFunction.skipped')}>
          <List size="sm">
            {skipped.map((s) => (
              <List.Item key={s.cylinder.id}>
                <Anchor component={Link} to={`/cylinders/${s.cylinder.id}`} size="sm">
                  {s.cylinder.marking}
                </Anchor>
                {': '}
                {t(`listFunction.skippedReason.${s.code}`, { defaultValue: s.message })}
              </List.Item>
            ))}
          </List>
        </Alert>
      )}
    </Stack>
  );
}

/** The list function (R16): add or remove keys and key groups on all chosen cylinders at once. */
export function ListFunction({ selection, onClear }: { selection: Selection; onClear: () => void }) {
  const { t } = useTranslation();
  const formats = useFormats();
  const [op, setOp] = useState<Op>('add');
  const [keyIds, setKeyIds] = useState<string[]>([]);
  const [groupIds, setGroupIds] = useState<string[]>([]);
  const [nothing, setNothing] = useState(false);
  const [result, setResult] = useState<Result | null>(null);
  const [groups] = useQuery({ query: KeyGroupOptionsDocument });
  const change = usePayloadMutation(ChangeAuthorizationsDocument, payloadOf, FIELDS);
  const errors = change.errors;
  const count = selection.size;

  async function submit(event: FormEvent) {
    event.preventDefault();
    const ids = [...keyIds, ...groupIds];
    if (!ids.length) {
      setNothing(true);
      return;
    }
    setResult(null);
    const payload = await change.submit({ input: { cylinderIds: [...selection.keys()], [op]: ids } });
    if (payload) setResult(payload);
  }

  const chosen = [...selection.values()];
  return (
    <Section id="list-function" title={t('listFunction.title')}>
      <Text size="sm">{t('listFunction.intro')}</Text>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Stack>
          <FormError message={errors['']} />
          <Group justify="space-between" align="flex-start">
            <Text size="sm" aria-live="polite">
              {count
                ? t('listFunction.selected', {
                    count,
                    n: formats.number(count),
                    markings: chosen.slice(0, 5).join(', ') + (count > 5 ? ', …' : ''),
                  })
                : t('listFunction.noneSelected')}
            </Text>
            <Button variant="subtle" size="xs" onClick={onClear} disabled={!count}>
              {t('listFunction.clear')}
            </Button>
          </Group>
          {errors.cylinderIds && (
            <Text c="red.9" size="sm" role="alert">
              {errors.cylinderIds}
            </Text>
          )}
          <SegmentedControl
            aria-label={t('listFunction.op')}
            value={op}
            onChange={(value) => setOp(value as Op)}
            data={[
              { value: 'add', label: t('listFunction.add') },
              { value: 'remove', label: t('listFunction.remove') },
            ]}
            w="fit-content"
          />
          <Group grow align="flex-start">
            <SearchMultiPicker
              kind="key"
              label={t('listFunction.keys')}
              value={keyIds}
              onChange={(value) => {
                setKeyIds(value);
                setNothing(false);
              }}
              error={errors[op] ?? (nothing ? t('listFunction.nothingChosen') : undefined)}
            />
            <MultiSelect
              label={t('listFunction.keyGroups')}
              data={groups.data?.keyGroups.map((g) => ({ value: g.id, label: g.name })) ?? []}
              value={groupIds}
              onChange={(value) => {
                setGroupIds(value);
                setNothing(false);
              }}
              searchable
              clearable
            />
          </Group>
          <Group justify="flex-end">
            <Button type="submit" disabled={!count} loading={change.fetching}>
              {t(op === 'add' ? 'listFunction.submitAdd' : 'listFunction.submitRemove', {
                count,
                n: formats.number(count),
              })}
            </Button>
          </Group>
        </Stack>
      </form>
      {result && <ListFunctionResult result={result} />}
    </Section>
  );
}
