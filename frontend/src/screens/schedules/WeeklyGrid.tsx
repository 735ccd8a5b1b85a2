import { ActionIcon, Button, Checkbox, Group, Input, Stack, Table, Text, VisuallyHidden } from '@mantine/core';
import { useTranslation } from 'react-i18next';

import {
  changeWindow,
  MAX_WINDOWS,
  newWindow,
  removeWindow,
  rowErrors,
  toggleDay,
  WEEKDAYS,
  weekendWindow,
  type WindowDraft,
} from './scheduleModel';

/** The weekly grid (R12): one row per time window, a checkbox per day of the week, the window's
 * start and end; every control is a native one, so Tab, Space and typing edit it all. The
 * server's messages stand on the row they name (``windows.2.end``). */
export function WeeklyGrid({
  windows,
  onChange,
  errors,
}: {
  windows: WindowDraft[];
  onChange: (windows: WindowDraft[]) => void;
  /** the server's messages by field, ``windows`` and ``windows.N.days|start|end`` among them */
  errors: Record<string, string>;
}) {
  const { t } = useTranslation();
  return (
    <Stack gap="xs">
      <Table.ScrollContainer minWidth={620} scrollAreaProps={{ viewportProps: { tabIndex: 0 } }}>
        <Table withTableBorder verticalSpacing={4} aria-describedby={errors.windows ? 'windows-error' : undefined}>
          <VisuallyHidden component="caption">{t('schedules.grid')}</VisuallyHidden>
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">{t('schedules.window')}</Table.Th>
              {WEEKDAYS.map((day) => (
                <Table.Th key={day} scope="col" ta="center">
                  <abbr title={t(`weekday.${day}`)}>{t(`weekdayShort.${day}`)}</abbr>
                </Table.Th>
              ))}
              <Table.Th scope="col">{t('schedules.start')}</Table.Th>
              <Table.Th scope="col">{t('schedules.end')}</Table.Th>
              <Table.Th scope="col">
                <VisuallyHidden>{t('schedules.rowActions')}</VisuallyHidden>
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {windows.map((w, row) => {
              const messages = rowErrors(errors, row);
              const number = row + 1;
              const errorId = `window-${row}-error`;
              const invalid = messages.length > 0;
              return [
                <Table.Tr key={`w${row}`} bg={invalid ? 'red.0' : undefined}>
                  <Table.Th scope="row">{t('schedules.windowN', { n: number })}</Table.Th>
                  {WEEKDAYS.map((day) => (
                    <Table.Td key={day} ta="center">
                      <Checkbox
                        styles={{ body: { justifyContent: 'center' } }}
                        checked={w.days.includes(day)}
                        onChange={() => onChange(toggleDay(windows, row, day))}
                        aria-label={t('schedules.dayInWindow', { day: t(`weekday.${day}`), n: number })}
                        aria-describedby={invalid ? errorId : undefined}
                        error={Boolean(errors[`windows.${row}.days`])}
                      />
                    </Table.Td>
                  ))}
                  {(['start', 'end'] as const).map((part) => (
                    <Table.Td key={part}>
                      <Input
                        type="time"
                        size="xs"
                        withAria={false}
                        aria-invalid={Boolean(errors[`windows.${row}.${part}`])}
                        value={w[part]}
                        onChange={(e) => onChange(changeWindow(windows, row, { [part]: e.currentTarget.value }))}
                        aria-label={t(part === 'start' ? 'schedules.startOf' : 'schedules.endOf', { n: number })}
                        aria-describedby={invalid ? errorId : undefined}
                        error={Boolean(errors[`windows.${row}.${part}`])}
                      />
                    </Table.Td>
                  ))}
                  <Table.Td>
                    <ActionIcon
                      variant="outline"
                      color="red.9"
                      onClick={() => onChange(removeWindow(windows, row))}
                      aria-label={t('schedules.removeWindow', { n: number })}
                    >
                      ×
                    </ActionIcon>
                  </Table.Td>
                </Table.Tr>,
                invalid && (
                  <Table.Tr key={`e${row}`} bg="red.0">
                    <Table.Td colSpan={WEEKDAYS.length + 4}>
                      <Text id={errorId} c="red.9" size="sm" role="alert">
                        {t('schedules.windowN', { n: number })}: {messages.join(' ')}
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                ),
              ];
            })}
            {windows.length === 0 && (
              <Table.Tr>
                <Table.Td colSpan={WEEKDAYS.length + 4}>
                  <Text size="sm" c="dimmed">
                    {t('schedules.noWindows')}
                  </Text>
                </Table.Td>
              </Table.Tr>
            )}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {errors.windows && (
        <Text id="windows-error" c="red.9" size="sm" role="alert">
          {errors.windows}
        </Text>
      )}
      <Group gap="xs">
        <Button
          variant="default"
          size="xs"
          onClick={() => onChange([...windows, newWindow()])}
          disabled={windows.length >= MAX_WINDOWS}
        >
          {t('schedules.addWindow')}
        </Button>
        <Button
          variant="default"
          size="xs"
          onClick={() => onChange([...windows, weekendWindow()])}
          disabled={windows.length >= MAX_WINDOWS}
        >
          {t('schedules.addWeekendWindow')}
        </Button>
      </Group>
    </Stack>
  );
}
