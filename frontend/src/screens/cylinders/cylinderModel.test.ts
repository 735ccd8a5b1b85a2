import { describe, expect, it } from 'vitest';

import { accessState, cylinderFilter, EMPTY_CYLINDER_SEARCH, toggleSelection } from './cylinderModel';

describe("a cylinder's access list, desired against programmed (R11, R15)", () => {
  it('tells entries in sync from those a job still adds or removes', () => {
    expect(accessState({ desired: true, programmed: true })).toBe('inSync');
    expect(accessState({ desired: true, programmed: false })).toBe('toAdd');
    expect(accessState({ desired: false, programmed: true })).toBe('toRemove');
  });
});

describe('the cylinders search', () => {
  it('asks the server only for what narrows the list; defective ones only by advanced search (R10)', () => {
    expect(cylinderFilter(EMPTY_CYLINDER_SEARCH)).toBeNull();
    expect(cylinderFilter({ ...EMPTY_CYLINDER_SEARCH, search: '  A-00 ' })).toEqual({ search: 'A-00' });
    expect(
      cylinderFilter({ search: '', advanced: true, domainId: 'd1', needsReprogramming: true }),
    ).toEqual({ advanced: true, domainId: 'd1', needsReprogramming: true });
  });
});

describe('the list function selection (R16)', () => {
  it('adds and removes cylinders, a page or one at a time, keeping the others', () => {
    const page1 = [
      { id: 'c1', marking: 'A-001' },
      { id: 'c2', marking: 'A-002' },
    ];
    let selection = toggleSelection(new Map(), page1, true);
    selection = toggleSelection(selection, [{ id: 'c9', marking: 'B-001' }], true);
    selection = toggleSelection(selection, [page1[0]], false);
    expect([...selection.entries()]).toEqual([
      ['c2', 'A-002'],
      ['c9', 'B-001'],
    ]);
  });
});
