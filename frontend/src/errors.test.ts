import { describe, expect, it } from 'vitest';

import { errorsByField } from './errors';

describe('payload errors go next to the field they name', () => {
  it('keys known fields and collects the rest under the form', () => {
    const errors = [
      { field: 'pin', code: 'INVALID', message: 'pin: 4 to 8 digits' },
      { field: 'bridgeId', code: 'NOT_FOUND', message: 'no such bridge' },
      { field: 'somethingElse', code: 'INVALID', message: 'odd' },
      { field: null, code: 'FORBIDDEN', message: 'missing right' },
    ];
    expect(errorsByField(errors, ['pin', 'bridgeId'])).toEqual({
      pin: 'pin: 4 to 8 digits',
      bridgeId: 'no such bridge',
      '': 'odd missing right',
    });
  });

  it('puts an error on a list item or a nested input under its known field', () => {
    const errors = [
      { field: 'cylinderIds.2', code: 'NOT_FOUND', message: 'no such cylinder' },
      { field: 'validity.validUntil', code: 'INVALID', message: 'before validFrom' },
      { field: 'validity', code: 'UNSUPPORTED_KEY_TYPE', message: 'no clock' },
      { field: 'add.1.x', code: 'INVALID', message: 'not a key' },
    ];
    expect(errorsByField(errors, ['cylinderIds', 'validity', 'validity.validUntil', 'add'])).toEqual({
      cylinderIds: 'no such cylinder',
      'validity.validUntil': 'before validFrom',
      validity: 'no clock',
      add: 'not a key',
    });
    expect(errorsByField(errors.slice(0, 1), ['cylinder'])).toEqual({ '': 'no such cylinder' });
  });
});
