import { Anchor, Badge, Group, Loader, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import type { CombinedError } from 'urql';

import { RequestError } from './Feedback';

/** An element's card: the way back to its list, then its title and status badge and its
 * sections; while it loads a spinner, and when the server shows no such element (another
 * tenant's, or outside the caller's domains: R1, R8) a sentence saying so. */
export function CardFrame({
  back,
  error,
  fetching,
  notFound,
  heading,
  children,
}: {
  back: { to: string; label: string };
  error?: CombinedError;
  fetching: boolean;
  notFound: string;
  /** null while there is no element to show */
  heading: { title: string; status: string; color?: string } | null;
  children?: ReactNode;
}) {
  const { t } = useTranslation();
  return (
    <Stack>
      <Anchor component={Link} to={back.to} size="sm">
        {back.label}
      </Anchor>
      {heading && (
        <Group justify="space-between" align="center">
          <Title order={2}>{heading.title}</Title>
          <Badge size="lg" variant="dot" color={heading.color}>
            {heading.status}
          </Badge>
        </Group>
      )}
      <RequestError error={error} />
      {heading ? children : fetching ? <Loader aria-label={t('app.loading')} /> : <Text>{notFound}</Text>}
    </Stack>
  );
}
