/** The fields of an employee the form edits (R4), as text: '' is "not given". */
export interface EmployeeFields {
  employeeNumber: string;
  firstName: string;
  lastName: string;
  email: string;
  department: string;
  phone: string;
}

export const FIELD_NAMES: readonly (keyof EmployeeFields)[] = [
  'employeeNumber',
  'firstName',
  'lastName',
  'email',
  'department',
  'phone',
];

const REQUIRED: ReadonlySet<keyof EmployeeFields> = new Set(['firstName', 'lastName']);

export const EMPTY_FIELDS: EmployeeFields = {
  employeeNumber: '',
  firstName: '',
  lastName: '',
  email: '',
  department: '',
  phone: '',
};

/** The form's text of an employee as the server has it. */
export function fieldsOf(employee: { [K in keyof EmployeeFields]?: string | null }): EmployeeFields {
  const fields = { ...EMPTY_FIELDS };
  for (const name of FIELD_NAMES) fields[name] = employee[name] ?? '';
  return fields;
}

/** What createEmployee is sent: optional fields left empty are not sent (the server checks the
 * rest and names the field at fault). */
export function createInput(fields: EmployeeFields, domainId: string | null) {
  const input: Record<string, string> = {};
  for (const name of FIELD_NAMES) {
    const value = fields[name].trim();
    if (value || REQUIRED.has(name)) input[name] = value;
  }
  if (domainId) input.domainId = domainId;
  return input as { firstName: string; lastName: string } & Partial<Record<string, string>>;
}

/** What updateEmployee is sent: only what changed (an emptied optional field is null: cleared,
 * R4), and the access profiles only when they changed (R13: the server makes the jobs). */
export function updateInput(
  employeeId: string,
  before: EmployeeFields,
  after: EmployeeFields,
  profilesBefore: readonly string[],
  profilesAfter: readonly string[] | null,
) {
  const input: Record<string, unknown> = { employeeId };
  for (const name of FIELD_NAMES) {
    const value = after[name].trim();
    if (value === before[name].trim()) continue;
    input[name] = value === '' && !REQUIRED.has(name) ? null : value;
  }
  if (profilesAfter !== null && !sameSet(profilesBefore, profilesAfter)) {
    input.accessProfileIds = [...profilesAfter];
  }
  return input as { employeeId: string } & Record<string, unknown>;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  return left.size === new Set(b).size && b.every((x) => left.has(x));
}

/** "Last, First" as lists and pickers show a person. */
export function displayName(e: { firstName: string; lastName: string }): string {
  return `${e.lastName}, ${e.firstName}`;
}
