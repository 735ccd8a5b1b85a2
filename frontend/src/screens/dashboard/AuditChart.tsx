import { Table, Text, VisuallyHidden } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

import { useFormats } from '../../hooks/useFormats';

export interface AuditDay {
  day: string;
  events: number;
}

/** Audit events per UTC day (R28) as a bar chart; the same figures in a table for screen
 * readers, and a one-line summary naming the busiest day. The chart takes the keyboard
 * (Recharts' accessibility layer: arrow keys move the tooltip from day to day). */
export function AuditChart({ days }: { days: readonly AuditDay[] }) {
  const { t } = useTranslation();
  const formats = useFormats();
  const total = days.reduce((sum, d) => sum + d.events, 0);
  const busiest = days.reduce<AuditDay | null>((top, d) => (d.events > (top?.events ?? 0) ? d : top), null);
  const summary = busiest
    ? t('dashboard.auditSummary', {
        count: total,
        n: formats.number(total),
        days: days.length,
        busiest: formats.utcDay(busiest.day),
        most: formats.number(busiest.events),
      })
    : t('dashboard.auditNone', { days: days.length });
  return (
    <figure style={{ margin: 0 }}>
      <Text component="figcaption" size="sm" mb="xs" id="audit-summary">
        {summary}
      </Text>
      <div style={{ width: '100%', height: 240 }} data-testid="audit-chart">
        <ResponsiveContainer>
          <BarChart data={[...days]} margin={{ top: 8, right: 8, bottom: 0, left: 0 }} aria-labelledby="audit-summary">
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="day" tickFormatter={formats.utcDayShort} minTickGap={16} tick={{ fill: '#495057', fontSize: 12 }} />
            <YAxis allowDecimals={false} tickFormatter={formats.number} width={48} tick={{ fill: '#495057', fontSize: 12 }} />
            <Tooltip
              labelFormatter={(day) => formats.utcDay(String(day))}
              formatter={(value) => [formats.number(Number(value)), t('dashboard.auditEvents')]}
            />
            <Bar dataKey="events" name={t('dashboard.auditEvents')} fill="#1c7ed6" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
      <VisuallyHidden>
        <Table>
          <caption>{t('dashboard.auditTable')}</caption>
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">{t('dashboard.day')}</Table.Th>
              <Table.Th scope="col">{t('dashboard.auditEvents')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {days.map((d) => (
              <Table.Tr key={d.day}>
                <Table.Td>{formats.utcDay(d.day)}</Table.Td>
                <Table.Td>{formats.number(d.events)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </VisuallyHidden>
    </figure>
  );
}
