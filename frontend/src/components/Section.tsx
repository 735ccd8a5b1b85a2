import { Group, Paper, Stack, Title } from '@mantine/core';
import type { ReactNode } from 'react';

/** How many rows a section of a card shows at a time (the server pages the rest). */
export const SECTION_PAGE_SIZE = 10;

/** A titled part of a card; the title names it for screen readers too. */
export function Section({ id, title, extra, children }: { id: string; title: string; extra?: ReactNode; children: ReactNode }) {
  return (
    <Paper withBorder p="md" component="section" aria-labelledby={id}>
      <Stack gap="sm">
        <Group justify="space-between" align="baseline">
          <Title order={3} size="h4" id={id}>
            {title}
          </Title>
          {extra}
        </Group>
        {children}
      </Stack>
    </Paper>
  );
}
