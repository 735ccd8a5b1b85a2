import { Button, Checkbox, Fieldset, Group, Radio, Stack, Text } from '@mantine/core';
import { useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';

import { SecurityBadge } from '../../components/CylinderLink';
import { FormError } from '../../components/Feedback';
import { graphql } from '../../gql';
import type { ReportKeyLostMutation } from '../../gql/graphql';
import { usePayloadMutation } from '../../hooks/usePayloadMutation';
import { cylindersByArea, lostInput, type Area, type LostChoice } from './keyModel';
import { keyOutcome, type KeyFormProps } from './Outcome';

const ReportKeyLostDocument = graphql(`
  mutation ReportKeyLost($input: ReportKeyLostInput!) {
    reportKeyLost(input: $input) {
      ...KeyOutcome
    }
  }
`);

const FIELDS = ['deprogram', 'cylinderIds', 'securityRelevantOnly'];
const CHOICES: LostChoice[] = ['all', 'securityRelevant', 'chosen', 'none'];
const payloadOf = (data: ReportKeyLostMutation) => data.reportKeyLost;

/** One area (a domain: a building, R8) of the cylinders the key opens: all of it at once, or
 * cylinder by cylinder. */
function AreaChoice({
  area,
  chosen,
  onChange,
}: {
  area: Area;
  chosen: ReadonlySet<string>;
  onChange: (ids: string[], on: boolean) => void;
}) {
  const { t } = useTranslation();
  const ids = area.cylinders.map((c) => c.id);
  const count = ids.filter((id) => chosen.has(id)).length;
  return (
    <Stack gap={4}>
      <Checkbox
        label={t('lost.wholeArea', { name: area.name, count: ids.length })}
        checked={count === ids.length}
        indeterminate={count > 0 && count < ids.length}
        onChange={(e) => onChange(ids, e.currentTarget.checked)}
        fw={500}
      />
      <Stack gap={4} pl="lg">
        {area.cylinders.map((c) => (
          <Checkbox
            key={c.id}
            label={
              <Group gap={6} wrap="nowrap">
                <span>{c.marking}</span>
                <SecurityBadge relevant={c.securityRelevant} />
              </Group>
            }
            checked={chosen.has(c.id)}
            onChange={(e) => onChange([c.id], e.currentTarget.checked)}
          />
        ))}
      </Stack>
    </Stack>
  );
}

/** Report a key lost (R19): it goes onto the key blocking list in any case (R21); the user
 * chooses which cylinders it is deprogrammed from: all, the security-relevant ones, chosen
 * cylinders or whole areas, or none. */
export function ReportLostForm({
  keyData,
  onDone,
  onCancel,
}: KeyFormProps) {
  const { t } = useTranslation();
  const areas = useMemo(() => cylindersByArea(keyData.authorizations), [keyData.authorizations]);
  const total = areas.reduce((n, a) => n + a.cylinders.length, 0);
  const relevant = areas.reduce((n, a) => n + a.cylinders.filter((c) => c.securityRelevant).length, 0);
  const [choice, setChoice] = useState<LostChoice>('all');
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const lost = usePayloadMutation(ReportKeyLostDocument, payloadOf, FIELDS);
  const errors = lost.errors;

  function toggle(ids: string[], on: boolean) {
    lost.clear();
    setChosen((before) => {
      const next = new Set(before);
      for (const id of ids) {
        if (on) next.add(id);
        else next.delete(id);
      }
      return next;
    });
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const payload = await lost.submit({ input: lostInput(keyData.id, choice, [...chosen]) });
    if (payload) {
      onDone(keyOutcome(t('lost.done', { marking: keyData.marking }), payload));
    }
  }

  const counts: Record<LostChoice, number | null> = { all: total, securityRelevant: relevant, chosen: null, none: null };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <Stack>
        <Text size="sm">{t('lost.intro')}</Text>
        <FormError message={errors['']} />
        <Radio.Group
          label={t('lost.deprogramFrom')}
          value={choice}
          onChange={(value) => {
            lost.clear();
            setChoice(value as LostChoice);
          }}
          error={errors.deprogram ?? errors.securityRelevantOnly}
        >
          <Stack gap="xs" mt="xs">
            {CHOICES.map((c) => (
              <Radio key={c} value={c} label={t(`lost.choice.${c}`, { count: counts[c] ?? 0 })} />
            ))}
          </Stack>
        </Radio.Group>
        {choice === 'chosen' && (
          <Fieldset legend={t('lost.chooseCylinders', { count: chosen.size })}>
            <Stack gap="sm">
              {areas.length === 0 && <Text size="sm">{t('lost.noCylinders')}</Text>}
              {areas.map((area) => (
                <AreaChoice key={area.id} area={area} chosen={chosen} onChange={toggle} />
              ))}
              {errors.cylinderIds && (
                <Text c="red.9" size="sm" role="alert">
                  {errors.cylinderIds}
                </Text>
              )}
            </Stack>
          </Fieldset>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            {t('actions.cancel')}
          </Button>
          <Button type="submit" color="red" loading={lost.fetching}>
            {t('lost.submit')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
