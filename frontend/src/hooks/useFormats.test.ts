import { describe, expect, it } from 'vitest';

import { formatsFor } from './useFormats';

describe('formats follow the language (issue 11 item 8)', () => {
  it('writes numbers and dates the English and the German way', () => {
    const en = formatsFor('en');
    const de = formatsFor('de');
    expect(en.number(3000)).toBe('3,000');
    expect(de.number(3000)).toBe('3.000');
    expect(en.date('2027-02-21T12:00:00Z')).toBe('Feb 21, 2027');
    expect(de.date('2027-02-21T12:00:00Z')).toBe('21.02.2027');
  });

  it('writes a day the server counted in UTC as that day, wherever the browser is', () => {
    expect(formatsFor('en').utcDay('2026-12-08')).toBe('Dec 8, 2026');
    expect(formatsFor('de').utcDay('2026-12-08')).toBe('08.12.2026');
    expect(formatsFor('en').utcDayShort('2026-12-08')).toBe('Dec 8');
  });
});
