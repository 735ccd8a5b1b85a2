import { Button, Group, Modal, Stack, Text } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';

import { FormError } from '../../components/Feedback';
import { graphql } from '../../gql';
import type { KeyCardKeyFragment, ReportKeyDefectiveMutation, ReturnKeyMutation } from '../../gql/graphql';
import { usePayloadMutation } from '../../hooks/usePayloadMutation';
import { CopyConfigurationForm } from './CopyConfigurationForm';
import { IssueKeyForm } from './IssueKeyForm';
import { keyActions } from './keyModel';
import { keyOutcome, type KeyFormProps, type Outcome } from './Outcome';
import { ReportLostForm } from './ReportLostForm';

export const ReturnKeyDocument = graphql(`
  mutation ReturnKey($input: KeyIdInput!) {
    returnKey(input: $input) {
      ...KeyOutcome
    }
  }
`);

const ReportKeyDefectiveDocument = graphql(`
  mutation ReportKeyDefective($input: KeyIdInput!) {
    reportKeyDefective(input: $input) {
      ...KeyOutcome
    }
  }
`);

type Action = 'issue' | 'return' | 'lost' | 'defective' | 'copy';
const ACTIONS: Action[] = ['issue', 'return', 'lost', 'defective', 'copy'];
const NO_FIELDS: string[] = [];
const returned = (data: ReturnKeyMutation) => data.returnKey;
const brokenKey = (data: ReportKeyDefectiveMutation) => data.reportKeyDefective;

/** Return an issued key into stock, or report a key defective: a question, then the change. */
function ConfirmForm({ keyData, onDone, onCancel, action }: KeyFormProps & { action: 'return' | 'defective' }) {
  const { t } = useTranslation();
  const giveBack = usePayloadMutation(ReturnKeyDocument, returned, NO_FIELDS);
  const breakDown = usePayloadMutation(ReportKeyDefectiveDocument, brokenKey, NO_FIELDS);
  const change = action === 'return' ? giveBack : breakDown;

  async function submit(event: FormEvent) {
    event.preventDefault();
    const payload = await change.submit({ input: { keyId: keyData.id } });
    if (payload) {
      onDone(keyOutcome(t(`${action}.done`, { marking: keyData.marking }), payload));
    }
  }

  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <Stack>
        <Text size="sm">{t(`${action}.question`, { marking: keyData.marking })}</Text>
        <FormError message={change.errors['']} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            {t('actions.cancel')}
          </Button>
          <Button type="submit" color={action === 'defective' ? 'red' : undefined} loading={change.fetching}>
            {t(`${action}.submit`)}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function ActionForm({ action, ...props }: KeyFormProps & { action: Action }) {
  switch (action) {
    case 'issue':
      return <IssueKeyForm {...props} />;
    case 'lost':
      return <ReportLostForm {...props} />;
    case 'copy':
      return <CopyConfigurationForm {...props} />;
    default:
      return <ConfirmForm {...props} action={action} />;
  }
}

/** The key card's actions, as its status allows and the caller's rights grant: each opens its
 * form in a dialog; what the change did is shown on the card (``onDone``). */
export function KeyActions({
  keyData,
  rights,
  onDone,
}: {
  keyData: KeyCardKeyFragment;
  rights: readonly string[];
  onDone: (outcome: Outcome) => void;
}) {
  const { t } = useTranslation();
  const [open, setOpen] = useState<Action | null>(null);
  // The dialog keeps its title while it closes.
  const [shown, setShown] = useState<Action>('issue');
  const allowed = keyActions(keyData.status, rights);
  const offered = ACTIONS.filter((a) => allowed[a]);
  if (!offered.length) return null;
  return (
    <>
      <Group gap="sm" role="group" aria-label={t('keyCard.actions')}>
        {offered.map((action) => (
          <Button
            key={action}
            variant={action === 'issue' ? 'filled' : 'default'}
            color={action === 'lost' || action === 'defective' ? 'red' : undefined}
            onClick={() => {
              setShown(action);
              setOpen(action);
            }}
          >
            {t(`${action}.open`)}
          </Button>
        ))}
      </Group>
      <Modal
        opened={open !== null}
        onClose={() => setOpen(null)}
        title={t(`${shown}.title`, { marking: keyData.marking })}
        size={shown === 'lost' || shown === 'copy' ? 'lg' : 'md'}
        closeButtonProps={{ 'aria-label': t('actions.close') }}
      >
        {open && (
          <ActionForm
            action={open}
            keyData={keyData}
            onCancel={() => setOpen(null)}
            onDone={(outcome) => {
              setOpen(null);
              onDone(outcome);
            }}
          />
        )}
      </Modal>
    </>
  );
}
