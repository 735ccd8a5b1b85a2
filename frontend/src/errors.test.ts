import { describe, expect, it } from 'vitest';

import i18n from './i18n';
import { errorsByField, errorText, messageOf } from './errors';

const en = i18n.getFixedT('en');
const de = i18n.getFixedT('de');

describe('payload errors go next to the field they name', () => {
  it('keys known fields and collects the rest under the form', () => {
    const errors = [
      { field: 'pin', code: 'INVALID', message: 'pin: 4 to 8 digits' },
      { field: 'bridgeId', code: 'NOT_FOUND', message: 'no such bridge' },
      { field: 'somethingElse', code: 'INVALID', message: 'odd' },
      { field: null, code: 'FORBIDDEN', message: 'missing right' },
    ];
    expect(errorsByField(errors, ['pin', 'bridgeId'], en)).toEqual({
      pin: '4 to 8 digits',
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
    expect(errorsByField(errors, ['cylinderIds', 'validity', 'validity.validUntil', 'add'], en)).toEqual({
      cylinderIds: 'no such cylinder',
      'validity.validUntil': 'before validFrom',
      validity: 'no clock',
      add: 'not a key',
    });
    expect(errorsByField(errors.slice(0, 1), ['cylinder'], en)).toEqual({ '': 'no such cylinder' });
  });
});

describe('a payload error as the user reads it (issue 11 item 8)', () => {
  it('drops the input path the server begins with: the form shows the field already', () => {
    const at = (field: string | null, message: string) => messageOf({ field, code: 'INVALID', message });
    expect(at('name', 'name: a cylinder group named Basement exists already')).toBe(
      'a cylinder group named Basement exists already',
    );
    expect(at('windows.1.end', 'windows: start must be before end')).toBe('start must be before end');
    expect(at('cylinderIds', 'cylinderIds.3: no such Cylinder')).toBe('no such Cylinder');
    // a path that is not the field's, or no field at all: the message stays whole
    expect(at('name', 'note: this stays')).toBe('note: this stays');
    expect(at(null, 'id: this stays')).toBe('id: this stays');
  });

  it("leads in German with what the code means, then the server's words", () => {
    const conflict = { field: 'id', code: 'CONFLICT', message: "id: the cylinder group 'B' is in use by its cylinders: A-001" };
    expect(errorText(conflict, en)).toBe("the cylinder group 'B' is in use by its cylinders: A-001");
    expect(errorText(conflict, de)).toBe(
      "Steht im Konflikt mit Vorhandenem. Der Server meldet: the cylinder group 'B' is in use by its cylinders: A-001",
    );
    // a code this build does not know yet: the server's words alone
    expect(errorText({ field: null, code: 'NEW_CODE', message: 'why' }, de)).toBe('why');
  });
});
