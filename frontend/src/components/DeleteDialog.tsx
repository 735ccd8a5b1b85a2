import { Button, Group, Modal, Stack, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import type { TypedDocumentNode } from 'urql';

import { usePayloadMutation } from '../hooks/usePayloadMutation';
import { FormError } from './Feedback';

/** What every delete mutation answers. */
export interface DeletePayloadLike {
  deletedId?: string | null;
  errors: readonly { field?: string | null; code: string; message: string }[];
}

/** Asks before deleting ``name``; the server's refusal (CONFLICT while in use names who uses
 * it, R12, R13) stands in the dialog. */
export function DeleteDialog<Data>({
  name,
  document,
  payloadOf,
  id,
  onDeleted,
  onClose,
}: {
  /** what is deleted, null: the dialog is closed */
  name: string | null;
  document: TypedDocumentNode<Data, { input: { id: string } }>;
  payloadOf: (data: Data) => DeletePayloadLike;
  id: string;
  onDeleted: () => void;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const remove = usePayloadMutation(document, payloadOf, []);

  async function confirm() {
    const payload = await remove.submit({ input: { id } });
    if (payload) onDeleted();
  }

  function close() {
    remove.clear();
    onClose();
  }

  return (
    <Modal
      opened={name !== null}
      onClose={close}
      title={t('delete.title', { name })}
      closeButtonProps={{ 'aria-label': t('actions.close') }}
    >
      <Stack>
        <Text size="sm">{t('delete.question', { name })}</Text>
        <FormError message={remove.errors['']} />
        <Group justify="flex-end">
          <Button variant="default" onClick={close} data-autofocus>
            {t('actions.cancel')}
          </Button>
          <Button color="red" onClick={() => void confirm()} loading={remove.fetching}>
            {t('delete.confirm')}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
