import { Alert, Button, Group, List, Stack, Text } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';

import { FormError } from '../../components/Feedback';
import { SearchPicker } from '../../components/Pickers';
import { graphql } from '../../gql';
import type { CopyKeyConfigurationMutation, KeyCardKeyFragment } from '../../gql/graphql';
import { useFormats, type Formats } from '../../hooks/useFormats';
import { usePayloadMutation } from '../../hooks/usePayloadMutation';
import type { KeyFormProps } from './Outcome';

const CopyKeyConfigurationDocument = graphql(`
  mutation CopyKeyConfiguration($input: CopyKeyConfigurationInput!) {
    copyKeyConfiguration(input: $input) {
      key {
        id
        marking
      }
      copied {
        what
        detail
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
  }
`);

const FIELDS = ['targetKeyId'];
const payloadOf = (data: CopyKeyConfigurationMutation) => data.copyKeyConfiguration;

type Item = { what: string; detail: string };

/** One copied item in the user's language: the source key's validity and interval as the
 * language writes them, names as they are. */
function itemDetail(item: Item, source: KeyCardKeyFragment, formats: Formats, t: (key: string, options?: Record<string, unknown>) => string) {
  const { validity } = source;
  switch (item.what) {
    case 'validity':
      if (validity.alwaysValid) return t('validity.alwaysValid');
      return [
        validity.validFrom && t('validity.fromDate', { date: formats.date(validity.validFrom) }),
        validity.validUntil && t('validity.untilDate', { date: formats.date(validity.validUntil) }),
      ]
        .filter(Boolean)
        .join(' ');
    case 'validation':
      return t('keyCard.hours', { count: source.extensionIntervalHours ?? 0 });
    case 'authorization':
      // The server says "cylinder <marking>"; the label already says what it is.
      return item.detail.replace(/^cylinder /, '');
    default:
      return item.detail;
  }
}

export function CopiedItems({ items, source, label }: { items: readonly Item[]; source: KeyCardKeyFragment; label: string }) {
  const { t } = useTranslation();
  const formats = useFormats();
  return (
    <List size="sm" aria-label={label}>
      {items.map((item) => (
        <List.Item key={item.what + item.detail}>
          <Text span fw={500} size="sm">
            {t(`copy.what.${item.what}`, { defaultValue: item.what })}:
          </Text>{' '}
          {itemDetail(item, source, formats, t)}
        </List.Item>
      ))}
    </List>
  );
}

/** Copy this key's configuration onto another key (R20): the preview (dry run) shows what will
 * be copied before anything is written; the server refuses E3 functions onto E1/E2 keys (and
 * clock functions onto E1), which is explained here in the user's words. */
export function CopyConfigurationForm({
  keyData,
  onDone,
  onCancel,
}: KeyFormProps) {
  const { t } = useTranslation();
  const [targetId, setTargetId] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);
  const [preview, setPreview] = useState<{ targetId: string; items: readonly Item[] } | null>(null);
  const copy = usePayloadMutation(CopyKeyConfigurationDocument, payloadOf, FIELDS);
  const refused = copy.payloadErrors.some((e) => e.code === 'UNSUPPORTED_KEY_TYPE');
  const previewed = preview !== null && preview.targetId === targetId;

  async function run(dryRun: boolean) {
    if (!targetId) {
      setMissing(true);
      return;
    }
    const payload = await copy.submit({ input: { sourceKeyId: keyData.id, targetKeyId: targetId, dryRun } });
    if (!payload) {
      setPreview(null);
      return;
    }
    if (dryRun) {
      setPreview({ targetId, items: payload.copied });
      return;
    }
    const target = payload.key?.marking ?? '';
    onDone({
      title: t('copy.done', { source: keyData.marking, target }),
      programmingJobs: payload.programmingJobs,
      details: <CopiedItems items={payload.copied} source={keyData} label={t('copy.copied')} />,
    });
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    void run(!previewed);
  }

  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <Text size="sm">{t('copy.intro', { marking: keyData.marking })}</Text>
        <FormError message={copy.errors['']} />
        <SearchPicker
          kind="key"
          label={t('copy.target')}
          value={targetId}
          onChange={(value) => {
            setTargetId(value);
            setMissing(false);
            copy.clear();
          }}
          error={copy.errors.targetKeyId ?? (missing ? t('errors.required') : undefined)}
          required
        />
        {refused && (
          <Alert color="orange" variant="light" title={t('copy.refusedTitle')}>
            {t('copy.refused')}
          </Alert>
        )}
        {previewed && (
          <Stack gap="xs">
            <Text size="sm" fw={500}>
              {t('copy.preview')}
            </Text>
            <CopiedItems items={preview.items} source={keyData} label={t('copy.preview')} />
          </Stack>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            {t('actions.cancel')}
          </Button>
          <Button type="button" variant={previewed ? 'default' : 'filled'} onClick={() => void run(true)} loading={copy.fetching && !previewed}>
            {t('copy.showPreview')}
          </Button>
          <Button type="button" disabled={!previewed} onClick={() => void run(false)} loading={copy.fetching && previewed}>
            {t('copy.submit')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
