import { describe, expect, it } from 'vitest';

import { changeWindow, newWindow, removeWindow, rowErrors, toggleDay, weekAtAGlance, weekRuns } from './scheduleModel';

describe('the weekly grid model (R12)', () => {
  it('switches a day of one row on and off, keeping the week order', () => {
    const windows = [newWindow(), { days: [], start: '09:00', end: '10:00' }];
    const on = toggleDay(windows, 1, 'SUNDAY');
    const both = toggleDay(on, 1, 'MONDAY');
    expect(both[1].days).toEqual(['MONDAY', 'SUNDAY']);
    expect(both[0]).toBe(windows[0]);
    expect(toggleDay(both, 0, 'FRIDAY')[0].days).toEqual(['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY']);
  });

  it('changes and removes a row without touching the others', () => {
    const windows = [newWindow(), newWindow()];
    expect(changeWindow(windows, 1, { end: '12:00' })[1].end).toBe('12:00');
    expect(changeWindow(windows, 1, { end: '12:00' })[0].end).toBe('17:00');
    expect(removeWindow(windows, 0)).toEqual([windows[1]]);
  });

  it('picks the server messages that name a row', () => {
    const errors = { 'windows.1.end': 'start must be before end', 'windows.0.days': 'needs a day', name: 'x' };
    expect(rowErrors(errors, 1)).toEqual(['start must be before end']);
    expect(rowErrors(errors, 0)).toEqual(['needs a day']);
    expect(rowErrors(errors, 2)).toEqual([]);
  });

  it('shows each day its opening times in order', () => {
    const week = weekAtAGlance([
      { days: ['MONDAY'], start: '13:00', end: '17:00' },
      { days: ['MONDAY', 'SATURDAY'], start: '08:00', end: '12:00' },
    ]);
    expect(week.get('MONDAY')).toEqual(['08:00–12:00', '13:00–17:00']);
    expect(week.get('SATURDAY')).toEqual(['08:00–12:00']);
    expect(week.get('SUNDAY')).toEqual([]);
  });

  it('sums the week up in runs of days with the same times', () => {
    const runs = weekRuns([
      { days: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'FRIDAY'], start: '07:00', end: '19:00' },
      { days: ['SATURDAY', 'SUNDAY'], start: '08:00', end: '12:00' },
    ]);
    expect(runs).toEqual([
      { from: 'MONDAY', to: 'WEDNESDAY', times: ['07:00–19:00'] },
      { from: 'FRIDAY', to: 'FRIDAY', times: ['07:00–19:00'] },
      { from: 'SATURDAY', to: 'SUNDAY', times: ['08:00–12:00'] },
    ]);
    expect(weekRuns([])).toEqual([]);
  });
});
