import { Button, Group, Text } from '@mantine/core';
import type { Table } from '@tanstack/react-table';
import { useTranslation } from 'react-i18next';

import type { CursorPager } from '../hooks/useCursorPager';

/** Where a paged list stands and how to move on. */
export interface PageControls {
  /** 0-based */
  pageIndex: number;
  /** how many pages there are, when the list's total is known */
  pages?: number;
  hasNext: boolean;
  previous: () => void;
  next: () => void;
}

/** A list the server pages by Relay cursors (forward only; the pager remembers the way back). */
export function cursorControls(
  pager: CursorPager,
  pageInfo: { hasNextPage: boolean; endCursor?: string | null } | null | undefined,
  pages?: number,
): PageControls {
  return {
    pageIndex: pager.pageIndex,
    pages,
    hasNext: Boolean(pageInfo?.hasNextPage),
    previous: pager.previous,
    next: () => pageInfo?.endCursor && pager.next(pageInfo.endCursor),
  };
}

/** A list the server sends whole, shown a page at a time by TanStack Table. */
export function tableControls<Row>(table: Table<Row>): PageControls {
  return {
    pageIndex: table.getState().pagination.pageIndex,
    pages: Math.max(1, table.getPageCount()),
    hasNext: table.getCanNextPage(),
    previous: table.previousPage,
    next: table.nextPage,
  };
}

/** Previous and next page; ``label`` names the list for screen readers when a screen has more
 * than one. Nothing when all fits on one page (unless the page count is to be shown). */
export function Pager({ controls, label, always = false }: { controls: PageControls; label?: string; always?: boolean }) {
  const { t } = useTranslation();
  const { pageIndex, pages, hasNext } = controls;
  if (!always && pageIndex === 0 && !hasNext) return null;
  const page = pageIndex + 1;
  return (
    <Group justify="flex-end" gap="sm" role="group" aria-label={label}>
      <Button variant="default" onClick={controls.previous} disabled={pageIndex === 0}>
        {t('pager.previous')}
      </Button>
      <Text size="sm">{pages ? t('pager.pageOf', { page, pages }) : t('pager.page', { page })}</Text>
      <Button variant="default" onClick={controls.next} disabled={!hasNext}>
        {t('pager.next')}
      </Button>
    </Group>
  );
}
