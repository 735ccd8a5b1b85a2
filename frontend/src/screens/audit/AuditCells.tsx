import { Anchor, Badge } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';

const RESULT_COLOR: Record<string, string> = { GRANTED: 'green' };

/** An audit event's result (R28): granted in green, every refusal in red. */
export function ResultBadge({ result }: { result: string }) {
  const { t } = useTranslation();
  return (
    <Badge variant="dot" color={RESULT_COLOR[result] ?? 'red'}>
      {t(`accessResult.${result}`)}
    </Badge>
  );
}

/** The key or cylinder an audit event names, linked to its card; unnamed when it is a foreign
 * key, deleted, or outside the caller's domains (R8). */
export function EventElement({ element, kind }: { element: { id: string; marking: string } | null; kind: 'key' | 'cylinder' }) {
  const { t } = useTranslation();
  if (!element) return <>{t(kind === 'key' ? 'audit.unknownKey' : 'audit.unknownCylinder')}</>;
  return (
    <Anchor component={Link} to={`/${kind === 'key' ? 'keys' : 'cylinders'}/${element.id}`} size="sm">
      {element.marking}
    </Anchor>
  );
}
