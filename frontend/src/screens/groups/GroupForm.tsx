import { Button, Group, Stack, TextInput, type ComboboxItem } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';

import { FormError } from '../../components/Feedback';
import { SearchMultiPicker } from '../../components/Pickers';
import type { PayloadMutation } from '../../hooks/usePayloadMutation';

/** The form of a named group (key groups and cylinder groups, R13): its name, and its members
 * searched on the server. ``mutation`` is the create or the update the form runs, ``save`` runs
 * it with the name and the members' ids; ``membersField`` is the input the server's errors about
 * the members name. */
export function GroupForm<Payload>({
  initialName,
  initialMembers,
  known,
  kind,
  membersField,
  texts,
  mutation,
  save,
  onDone,
  onCancel,
}: {
  initialName: string;
  initialMembers: string[];
  known: readonly ComboboxItem[];
  kind: 'key' | 'cylinder';
  membersField: string;
  texts: { name: string; members: string; membersHint: string; submit: string };
  /** the create or the update: its errors by field, and whether it runs */
  mutation: Pick<PayloadMutation<never, unknown>, 'errors' | 'fetching'>;
  save: (name: string, memberIds: string[]) => Promise<Payload | null>;
  onDone: (outcome: Payload) => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const [name, setName] = useState(initialName);
  const [members, setMembers] = useState<string[]>(initialMembers);
  const errors = mutation.errors;

  async function submit(event: FormEvent) {
    event.preventDefault();
    const payload = await save(name, members);
    if (payload) onDone(payload);
  }

  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <Stack>
        <FormError message={errors['']} />
        <TextInput
          label={texts.name}
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={errors.name}
          required
          data-autofocus
        />
        <SearchMultiPicker
          kind={kind}
          label={texts.members}
          description={texts.membersHint}
          value={members}
          onChange={setMembers}
          known={known}
          error={errors[membersField]}
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            {t('actions.cancel')}
          </Button>
          <Button type="submit" loading={mutation.fetching}>
            {texts.submit}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
