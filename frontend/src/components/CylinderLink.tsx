import { Anchor, Badge, Group } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';

/** Marks a security-relevant cylinder (R19: a lost key leaves it first). */
export function SecurityBadge({ relevant }: { relevant: boolean }) {
  const { t } = useTranslation();
  if (!relevant) return null;
  return (
    <Badge size="xs" color="red.9" variant="outline">
      {t('cylinders.securityRelevantShort')}
    </Badge>
  );
}

/** A cylinder's marking, leading to its card. */
export function CylinderLink({ cylinder }: { cylinder: { id: string; marking: string; securityRelevant?: boolean } }) {
  return (
    <Group gap={6}>
      <Anchor component={Link} to={`/cylinders/${cylinder.id}`} size="sm">
        {cylinder.marking}
      </Anchor>
      <SecurityBadge relevant={Boolean(cylinder.securityRelevant)} />
    </Group>
  );
}
