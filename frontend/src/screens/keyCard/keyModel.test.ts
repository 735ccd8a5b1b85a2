import { describe, expect, it } from 'vitest';

import { authorizationOrigin, cylindersByArea, keyActions, lostInput, validityInput } from './keyModel';

describe("an authorization's origin (R13)", () => {
  it('tells direct, own profile, holder profile, both, key group and cylinder group apart', () => {
    const own = ['IT'];
    const holders = ['Cleaning', 'IT'];
    expect(authorizationOrigin('direct', own, holders)).toEqual({ kind: 'direct' });
    expect(authorizationOrigin('profile:All staff', ['All staff'], [])).toEqual({ kind: 'profile', name: 'All staff' });
    expect(authorizationOrigin('profile:Cleaning', own, holders)).toEqual({ kind: 'holderProfile', name: 'Cleaning' });
    expect(authorizationOrigin('profile:IT', own, holders)).toEqual({ kind: 'bothProfiles', name: 'IT' });
    expect(authorizationOrigin('group:Facility E3', own, holders)).toEqual({ kind: 'group', name: 'Facility E3' });
    expect(authorizationOrigin('cylinderGroup:Labs', own, holders)).toEqual({ kind: 'cylinderGroup', name: 'Labs' });
    expect(authorizationOrigin('profile:A:B', ['A:B'], [])).toEqual({ kind: 'profile', name: 'A:B' });
    expect(authorizationOrigin('somethingNew:X', own, holders)).toEqual({ kind: 'other', name: 'somethingNew:X' });
  });
});

describe('the validity a form gives (R12)', () => {
  it('is always valid, or runs from the start of the first day to the end of the last', () => {
    expect(validityInput({ alwaysValid: true, from: '2027-01-01', until: '' })).toEqual({ alwaysValid: true });
    const span = validityInput({ alwaysValid: false, from: '2027-01-01', until: '2027-01-31' });
    expect(span.alwaysValid).toBe(false);
    expect(new Date(span.validFrom!).getTime()).toBe(new Date(2027, 0, 1, 0, 0, 0).getTime());
    expect(new Date(span.validUntil!).getTime()).toBe(new Date(2027, 0, 31, 23, 59, 59).getTime());
    expect(span.validFrom).toMatch(/Z$/);
    expect(validityInput({ alwaysValid: false, from: '', until: '2027-01-31' }).validFrom).toBeNull();
  });
});

describe('reporting a key lost (R19)', () => {
  it('deprograms everywhere, from security-relevant cylinders, from chosen ones, or nowhere', () => {
    expect(lostInput('k', 'all', ['c1'])).toEqual({ keyId: 'k', deprogram: true });
    expect(lostInput('k', 'securityRelevant', [])).toEqual({ keyId: 'k', deprogram: true, securityRelevantOnly: true });
    expect(lostInput('k', 'chosen', ['c1', 'c2'])).toEqual({ keyId: 'k', deprogram: true, cylinderIds: ['c1', 'c2'] });
    expect(lostInput('k', 'none', ['c1'])).toEqual({ keyId: 'k', deprogram: false });
  });

  it('offers each cylinder once, by area, in marking order', () => {
    const a = { id: 'dA', name: 'Default' };
    const b = { id: 'dB', name: 'Building B' };
    const cyl = (id: string, marking: string, domain: typeof a, securityRelevant = false) => ({
      cylinder: { id, marking, securityRelevant, domain },
    });
    const areas = cylindersByArea([
      cyl('3', 'A-010 Archive', a, true),
      cyl('1', 'A-001 Main entrance', a, true),
      cyl('9', 'B-001 Main entrance', b),
      cyl('1', 'A-001 Main entrance', a, true),
    ]);
    expect(areas.map((x) => [x.name, x.cylinders.map((c) => c.id)])).toEqual([
      ['Building B', ['9']],
      ['Default', ['1', '3']],
    ]);
  });
});

describe('the actions a key offers', () => {
  const all = ['keys.issue', 'keys.write'];
  it('follow its status (R10)', () => {
    expect(keyActions('IN_STOCK', all)).toEqual({ issue: true, return: false, lost: true, defective: true, copy: true });
    expect(keyActions('ISSUED', all)).toEqual({ issue: false, return: true, lost: true, defective: true, copy: true });
    expect(keyActions('LOST', all)).toEqual({ issue: false, return: false, lost: false, defective: false, copy: true });
    expect(keyActions('NOT_ACTIVATED', all)).toEqual({
      issue: false,
      return: false,
      lost: false,
      defective: false,
      copy: false,
    });
  });

  it('and the rights (R7): an operator issues and returns only', () => {
    expect(keyActions('ISSUED', ['keys.issue'])).toEqual({
      issue: false,
      return: true,
      lost: false,
      defective: false,
      copy: false,
    });
  });
});
