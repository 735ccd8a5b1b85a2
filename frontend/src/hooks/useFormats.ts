import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';

/** Dates, times and numbers as the user's language writes them (issue 11 item 8). */
export interface Formats {
  date: (iso: string) => string;
  dateTime: (iso: string) => string;
  number: (n: number) => string;
}

export function formatsFor(language: string): Formats {
  const date = new Intl.DateTimeFormat(language, { dateStyle: 'medium' });
  const dateTime = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' });
  const number = new Intl.NumberFormat(language);
  return {
    date: (iso) => date.format(new Date(iso)),
    dateTime: (iso) => dateTime.format(new Date(iso)),
    number: (n) => number.format(n),
  };
}

export function useFormats(): Formats {
  const { i18n } = useTranslation();
  return useMemo(() => formatsFor(i18n.language), [i18n.language]);
}
