import { describe, expect, it } from 'vitest';

import { EMPTY_SEARCH, keyFilter } from './keyFilter';

describe('the keys search becomes the server filter', () => {
  it('asks for nothing when nothing narrows the list', () => {
    expect(keyFilter(EMPTY_SEARCH)).toBeNull();
    expect(keyFilter({ ...EMPTY_SEARCH, search: '   ' })).toBeNull();
  });

  it('passes search, types, statuses and domain', () => {
    expect(
      keyFilter({ search: ' Mül ', advanced: false, statuses: ['ISSUED'], types: ['E3'], domainId: 'RG9tYWluOjE' }),
    ).toEqual({ search: 'Mül', status: ['ISSUED'], type: ['E3'], domainId: 'RG9tYWluOjE' });
  });

  it('finds lost and defective keys only with advanced search (R10)', () => {
    const lost = { ...EMPTY_SEARCH, statuses: ['LOST', 'ISSUED'] as const };
    expect(keyFilter({ ...lost, statuses: [...lost.statuses] })).toEqual({ status: ['ISSUED'] });
    expect(keyFilter({ ...lost, statuses: [...lost.statuses], advanced: true })).toEqual({
      advanced: true,
      status: ['LOST', 'ISSUED'],
    });
  });
});
