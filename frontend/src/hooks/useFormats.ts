import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';

/** Dates, times and numbers as the user's language writes them (issue 11 item 8). */
export interface Formats {
  date: (iso: string) => string;
  dateTime: (iso: string) => string;
  number: (n: number) => string;
  /** A calendar day the server counted in UTC ("2026-12-08"), as that day, wherever the
   * browser is: in full, and short (day and month) for a chart's axis. */
  utcDay: (isoDay: string) => string;
  utcDayShort: (isoDay: string) => string;
}

export function formatsFor(language: string): Formats {
  const date = new Intl.DateTimeFormat(language, { dateStyle: 'medium' });
  const dateTime = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' });
  const number = new Intl.NumberFormat(language);
  const utcDay = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeZone: 'UTC' });
  const utcDayShort = new Intl.DateTimeFormat(language, { day: 'numeric', month: 'short', timeZone: 'UTC' });
  return {
    date: (iso) => date.format(new Date(iso)),
    dateTime: (iso) => dateTime.format(new Date(iso)),
    number: (n) => number.format(n),
    utcDay: (iso) => utcDay.format(new Date(`${iso}T00:00:00Z`)),
    utcDayShort: (iso) => utcDayShort.format(new Date(`${iso}T00:00:00Z`)),
  };
}

export function useFormats(): Formats {
  const { i18n } = useTranslation();
  return useMemo(() => formatsFor(i18n.language), [i18n.language]);
}
