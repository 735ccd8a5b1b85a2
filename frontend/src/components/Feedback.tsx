import { Alert, List } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import type { CombinedError } from 'urql';

import { requestErrorText } from '../errors';

/** An error that names no field of the form, above it; nothing when there is none. */
export function FormError({ message }: { message?: string }) {
  if (!message) return null;
  return (
    <Alert color="red" role="alert" variant="light">
      {message}
    </Alert>
  );
}

/** A query that failed: why, in the user's language. */
export function RequestError({ error }: { error?: CombinedError }) {
  const { t } = useTranslation();
  if (!error) return null;
  return <FormError message={requestErrorText(error, t)} />;
}

/** The warnings a payload carries (R11, R17, R19, R26): translated where the code is known,
 * else the server's message. */
export function Warnings({ warnings }: { warnings: readonly { code: string; message: string }[] }) {
  const { t } = useTranslation();
  if (!warnings.length) return null;
  return (
    <Alert color="yellow" variant="light" title={t('outcome.warnings')}>
      <List size="sm">
        {warnings.map((w) => (
          <List.Item key={w.code + w.message}>{t(`warning.${w.code}`, { defaultValue: w.message })}</List.Item>
        ))}
      </List>
    </Alert>
  );
}
