import type { Weekday } from '../../gql/graphql';

/** The days of the week in the grid's order (ISO: Monday first). */
export const WEEKDAYS: readonly Weekday[] = [
  'MONDAY',
  'TUESDAY',
  'WEDNESDAY',
  'THURSDAY',
  'FRIDAY',
  'SATURDAY',
  'SUNDAY',
] as Weekday[];

/** Monday to Friday: the days a new window starts with. */
export const WORKDAYS: readonly Weekday[] = WEEKDAYS.slice(0, 5);

/** One row of the weekly grid: the days it opens, from ``start`` until ``end`` (HH:MM, R12). */
export interface WindowDraft {
  days: Weekday[];
  start: string;
  end: string;
}

/** How many rows a schedule's grid may hold: the field names of the server's errors are
 * known for these. */
export const MAX_WINDOWS = 20;

/** The input fields of a schedule's form, for the server's errors: the name, the windows as a
 * whole and each window's days, start and end (the server names ``windows.2.end``). */
export const SCHEDULE_FIELDS: readonly string[] = [
  'name',
  'windows',
  ...Array.from({ length: MAX_WINDOWS }, (_, i) => [`windows.${i}.days`, `windows.${i}.start`, `windows.${i}.end`]).flat(),
];

/** A window the grid adds: working days, office hours. */
export function newWindow(): WindowDraft {
  return { days: [...WORKDAYS], start: '08:00', end: '17:00' };
}

/** A window for Saturday and Sunday mornings. */
export function weekendWindow(): WindowDraft {
  return { days: WEEKDAYS.filter((d) => !WORKDAYS.includes(d)), start: '08:00', end: '13:00' };
}

/** The windows with ``day`` of row ``row`` switched on or off, the days kept in week order. */
export function toggleDay(windows: readonly WindowDraft[], row: number, day: Weekday): WindowDraft[] {
  return windows.map((w, i) => {
    if (i !== row) return w;
    const on = w.days.includes(day) ? w.days.filter((d) => d !== day) : [...w.days, day];
    return { ...w, days: WEEKDAYS.filter((d) => on.includes(d)) };
  });
}

/** The windows with row ``row`` changed by ``change``. */
export function changeWindow(
  windows: readonly WindowDraft[],
  row: number,
  change: Partial<WindowDraft>,
): WindowDraft[] {
  return windows.map((w, i) => (i === row ? { ...w, ...change } : w));
}

/** The windows without row ``row``. */
export function removeWindow(windows: readonly WindowDraft[], row: number): WindowDraft[] {
  return windows.filter((_, i) => i !== row);
}

/** The windows as the server takes them (TimeWindowInput). */
export function windowsInput(windows: readonly WindowDraft[]): WindowDraft[] {
  return windows.map((w) => ({ days: [...w.days], start: w.start, end: w.end }));
}

/** What the server said about row ``row``: its days, start and end, in that order. */
export function rowErrors(errors: Record<string, string>, row: number): string[] {
  return ['days', 'start', 'end']
    .map((part) => errors[`windows.${row}.${part}`])
    .filter((message): message is string => Boolean(message));
}

/** For each day of the week, its opening times in order ("08:00–12:00"): the week at a glance. */
export function weekAtAGlance(windows: readonly WindowDraft[]): Map<Weekday, string[]> {
  const week = new Map<Weekday, string[]>(WEEKDAYS.map((d) => [d, []]));
  const sorted = [...windows].sort((a, b) => a.start.localeCompare(b.start));
  for (const w of sorted) {
    for (const day of w.days) week.get(day)?.push(`${w.start}–${w.end}`);
  }
  return week;
}

/** The week in runs of consecutive days that open at the same times: ``{ from: MONDAY, to:
 * FRIDAY, times: ['07:00–19:00'] }`` (a single day has ``from`` equal to ``to``). */
export function weekRuns(windows: readonly WindowDraft[]): { from: Weekday; to: Weekday; times: string[] }[] {
  const week = weekAtAGlance(windows);
  const runs: { from: Weekday; to: Weekday; times: string[] }[] = [];
  for (const day of WEEKDAYS) {
    const times = week.get(day) ?? [];
    const last = runs[runs.length - 1];
    const follows = last && WEEKDAYS.indexOf(last.to) === WEEKDAYS.indexOf(day) - 1;
    if (!times.length) continue;
    if (follows && last.times.join() === times.join()) last.to = day;
    else runs.push({ from: day, to: day, times });
  }
  return runs;
}
