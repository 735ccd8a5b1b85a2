import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import i18n from '../../i18n';
import { renderRoute } from '../../test/render';
import { fakeServer, viewer } from '../../test/server';
import { Dashboard } from './Dashboard';

const DAYS = Array.from({ length: 30 }, (_, i) => ({
  day: new Date(Date.UTC(2026, 10, 9 + i)).toISOString().slice(0, 10),
  events: i === 29 ? 1200 : i % 7,
}));

const FULL = {
  keyCount: 1234,
  cylinderCount: 56,
  employeeCount: 78,
  offlineDevices: 2,
  waitingJobs: [
    { domain: { id: 'd1', name: 'Default' }, waiting: 3 },
    { domain: { id: 'd2', name: 'North wing' }, waiting: 1 },
  ],
  expiringKeys: {
    count: 7,
    first: [{ id: 'k1', marking: 'K-0007', validity: { validUntil: '2026-12-08T15:00:00Z' } }],
  },
  blockingList: { keys: 2750, limit: 3000, warnAt: 2700 },
  auditEventsPerDay: DAYS,
};

/** Every part null: what the server answers a caller holding none of their rights. */
const NOTHING = Object.fromEntries(Object.keys(FULL).map((k) => [k, null]));

describe('the dashboard (issue 12 item 1)', () => {
  it('shows the server’s counts, the jobs per domain, the keys running out and the blocking list', async () => {
    const { client } = fakeServer({
      Viewer: viewer(['keys.read']),
      Dashboard: () => ({ dashboard: FULL }),
    });
    renderRoute(<Dashboard />, client, '/dashboard', '/dashboard');
    expect((await screen.findByTestId('count-keys')).textContent).toBe('1,234');
    expect(screen.getByTestId('count-offlineDevices').textContent).toBe('2');
    const jobs = screen.getByRole('table', { name: 'Waiting programming jobs per domain' });
    expect(within(jobs).getByRole('row', { name: /North wing/ }).textContent).toContain('1');
    expect(screen.getByRole('link', { name: '4 jobs in all' }).getAttribute('href')).toBe('/jobs');
    expect(screen.getByRole('link', { name: 'K-0007' }).getAttribute('href')).toBe('/keys/k1');
    expect(screen.getByText('and 6 more keys')).toBeTruthy();
    const bar = screen.getByRole('progressbar', { name: '2,750 of at most 3,000 keys' });
    expect(bar.getAttribute('aria-valuemax')).toBe('3000');
    expect(bar.getAttribute('aria-valuenow')).toBe('2750');
    expect(screen.getByText(/nears the 3,000 keys/)).toBeTruthy();
    // the chart's figures for screen readers: a summary naming the busiest day, and a table
    expect(screen.getByText(/1,284 audit events in the last 30 days; the most on Dec 8, 2026: 1,200/)).toBeTruthy();
    const days = screen.getByRole('table', { name: 'Audit events per day (UTC)' });
    expect(within(days).getAllByRole('row')).toHaveLength(31);
    expect(within(days).getByRole('row', { name: /Dec 8, 2026/ }).textContent).toContain('1,200');
  });

  it('leaves out each part the server answers null for, without an error', async () => {
    const { client } = fakeServer({
      Viewer: viewer(['keys.read']),
      Dashboard: () => ({ dashboard: { ...NOTHING, keyCount: 5 } }),
    });
    renderRoute(<Dashboard />, client, '/dashboard', '/dashboard');
    expect((await screen.findByTestId('count-keys')).textContent).toBe('5');
    expect(screen.queryByTestId('count-cylinders')).toBeNull();
    expect(screen.queryByRole('table')).toBeNull();
    expect(screen.queryByRole('progressbar')).toBeNull();
    expect(screen.queryByText('Audit events, last 30 days')).toBeNull();
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('asks the server again only when Refresh is pressed (no polling)', async () => {
    const { client, calls } = fakeServer({
      Viewer: viewer(['keys.read']),
      Dashboard: () => ({ dashboard: FULL }),
    });
    const user = userEvent.setup();
    renderRoute(<Dashboard />, client, '/dashboard', '/dashboard');
    await screen.findByTestId('count-keys');
    expect(calls.Dashboard).toHaveLength(1);
    await user.click(screen.getByRole('button', { name: 'Refresh' }));
    await waitFor(() => expect(calls.Dashboard).toHaveLength(2));
  });

  it('writes numbers and days the German way', async () => {
    await i18n.changeLanguage('de');
    try {
      const { client } = fakeServer({
        Viewer: viewer(['keys.read']),
        Dashboard: () => ({ dashboard: FULL }),
      });
      renderRoute(<Dashboard />, client, '/dashboard', '/dashboard');
      expect((await screen.findByTestId('count-keys')).textContent).toBe('1.234');
      expect(screen.getByRole('heading', { name: 'Übersicht' })).toBeTruthy();
      expect(screen.getByRole('progressbar', { name: '2.750 von höchstens 3.000 Schlüsseln' })).toBeTruthy();
      const days = screen.getByRole('table', { name: 'Protokollereignisse je Tag (UTC)' });
      expect(within(days).getByRole('row', { name: /08\.12\.2026/ }).textContent).toContain('1.200');
    } finally {
      await i18n.changeLanguage('en');
    }
  });
});
