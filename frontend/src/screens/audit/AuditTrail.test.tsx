import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useLocation } from 'react-router';
import { describe, expect, it } from 'vitest';

import { renderRoute } from '../../test/render';
import { connectionPage, fakeServer, viewer } from '../../test/server';
import { AUDIT_PAGE_SIZE, AuditTrail } from './AuditTrail';
import { auditFilter, criteriaFromSearch } from './auditModel';

const RESULTS = ['GRANTED', 'DENIED_SCHEDULE'] as const;

/** 30 events on cylinders c1 and c2, newest first, half of them refused by the schedule. */
function event(n: number) {
  return {
    at: new Date(Date.UTC(2026, 11, 1, 8, 60 - n)).toISOString(),
    result: RESULTS[n % 2],
    key: n === 3 ? null : { id: 'k1', marking: 'K-0001' },
    cylinder: { id: `c${(n % 3) + 1}`, marking: `A-00${(n % 3) + 1}` },
  };
}

function auditPage(variables: Record<string, unknown>) {
  const filter = (variables.filter ?? {}) as { cylinderId?: string | null; result?: string[] | null };
  const all = Array.from({ length: 30 }, (_, i) => event(i + 1)).filter(
    (e) => (!filter.cylinderId || e.cylinder.id === filter.cylinderId) && (!filter.result || filter.result.includes(e.result)),
  );
  const page = connectionPage(all, variables);
  return { auditEvents: { ...page, edges: page.edges.map((e, i) => ({ ...e, cursor: `${variables.after ?? 0}-${i}` })) } };
}

function Where() {
  return <output data-testid="where">{useLocation().search}</output>;
}

const server = () =>
  fakeServer({
    Viewer: viewer(['audit.read', 'keys.read', 'cylinders.read']),
    AuditTrailPage: auditPage,
    AuditFilterLabels: () => ({ nodes: [{ __typename: 'Cylinder', id: 'c2', marking: 'A-002' }] }),
    KeyOptions: () => ({ keys: { edges: [] } }),
    CylinderOptions: ({ search }: Record<string, unknown>) => ({
      cylinders: {
        edges: search ? [{ node: { id: 'c2', marking: 'A-002', domain: { name: 'Default' } } }] : [],
      },
    }),
  });

describe('the audit trail screen (issue 12 item 8; R28)', () => {
  it('pages on the server, filters by cylinder and result into the URL, and exports the filter', async () => {
    const { client, calls } = server();
    renderRoute(
      <>
        <AuditTrail />
        <Where />
      </>,
      client,
      '/audit',
      '/audit',
    );

    expect(await screen.findByText('30 events')).toBeTruthy();
    expect(calls.AuditTrailPage[0]).toEqual({
      filter: { keyId: null, cylinderId: null, result: null, from: null, until: null },
      first: AUDIT_PAGE_SIZE,
      after: null,
    });
    expect(screen.getByRole('table', { name: 'Audit events, page 1' })).toBeTruthy();
    await userEvent.click(screen.getByRole('button', { name: 'Next page' }));
    expect(await screen.findByRole('table', { name: 'Audit events, page 2' })).toBeTruthy();
    expect(calls.AuditTrailPage.at(-1)?.after).toBe('25');

    // a cylinder searched on the server, then a result
    await userEvent.type(screen.getByRole('textbox', { name: 'Cylinder' }), 'A-002');
    await userEvent.click(await screen.findByRole('option', { name: 'A-002 · Default' }));
    await userEvent.click(screen.getByRole('textbox', { name: 'Result' }));
    await userEvent.click(await screen.findByRole('option', { name: 'Refused: outside the schedule' }));

    await waitFor(() => expect(screen.getByText('5 events')).toBeTruthy());
    // back on the first page, the filter in the URL and in the export
    expect(screen.getByRole('table', { name: 'Audit events, page 1' })).toBeTruthy();
    expect(screen.getByTestId('where').textContent).toBe('?cylinderId=c2&result=DENIED_SCHEDULE');
    expect(calls.CylinderOptions).toContainEqual({ search: 'A-002', first: 20 });
    const rows = within(screen.getByRole('table')).getAllByRole('row').slice(1);
    expect(rows.every((row) => row.textContent?.includes('A-002'))).toBe(true);
    const exportLink = screen.getByRole('link', { name: 'Export CSV' });
    expect(exportLink.getAttribute('href')).toBe('/export/audit-events.csv?cylinderId=c2&result=DENIED_SCHEDULE');
    expect(exportLink.hasAttribute('download')).toBe(true);
  });

  it('opens with the filter a shared link carries, the cylinder named by its marking', async () => {
    const { client, calls } = server();
    renderRoute(<AuditTrail />, client, '/audit', '/audit?cylinderId=c2&result=GRANTED&from=2026-12-01&until=2026-12-02');

    expect(await screen.findByText('5 events')).toBeTruthy();
    expect(((await screen.findByRole('textbox', { name: 'Cylinder' })) as HTMLInputElement).value).toBe('A-002');
    expect(calls.AuditFilterLabels[0]).toEqual({ ids: ['c2'] });
    const filter = calls.AuditTrailPage[0].filter as { from: string; until: string; result: string[] };
    // the days are the user's local days, sent as instants with their offset
    expect(filter.result).toEqual(['GRANTED']);
    expect(new Date(filter.from).getTime()).toBe(new Date(2026, 11, 1).getTime());
    expect(new Date(filter.until).getTime()).toBe(new Date(2026, 11, 2, 23, 59, 59, 999).getTime());
    expect((screen.getByLabelText('From (day)') as HTMLInputElement).value).toBe('2026-12-01');
    const href = screen.getByRole('link', { name: 'Export CSV' }).getAttribute('href') ?? '';
    expect(new URL(href, 'http://x').searchParams.get('from')).toBe(filter.from);
  });

  it('leaves out what a hand-edited URL spells wrong', () => {
    const criteria = criteriaFromSearch(new URLSearchParams('result=OPENED&result=GRANTED&from=yesterday'));
    expect(criteria).toEqual({ keyId: null, cylinderId: null, results: ['GRANTED'], from: null, until: null });
    expect(auditFilter(criteria).from).toBeNull();
  });
});
