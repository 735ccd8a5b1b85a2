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
});
