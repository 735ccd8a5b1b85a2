import { Group, Switch, TextInput } from '@mantine/core';
import { useTranslation } from 'react-i18next';

import type { ValidityForm } from './keyModel';

/** A key's validity (R12): always, or from and/or until a day; the server's errors on
 * `validity`, `validity.validFrom` and `validity.validUntil` next to their field. */
export function ValidityFields({
  value,
  onChange,
  errors,
}: {
  value: ValidityForm;
  onChange: (value: ValidityForm) => void;
  errors: Record<string, string>;
}) {
  const { t } = useTranslation();
  return (
    <>
      <Switch
        label={t('validity.always')}
        checked={value.alwaysValid}
        onChange={(e) => onChange({ ...value, alwaysValid: e.currentTarget.checked })}
        error={errors.validity}
      />
      {!value.alwaysValid && (
        <Group grow align="flex-start">
          <TextInput
            type="date"
            label={t('validity.from')}
            value={value.from}
            onChange={(e) => onChange({ ...value, from: e.currentTarget.value })}
            error={errors['validity.validFrom']}
          />
          <TextInput
            type="date"
            label={t('validity.until')}
            value={value.until}
            onChange={(e) => onChange({ ...value, until: e.currentTarget.value })}
            error={errors['validity.validUntil']}
          />
        </Group>
      )}
    </>
  );
}
