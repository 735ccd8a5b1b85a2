/** A payload error as every mutation answers it: the input field it names, a code, a message. */
export interface PayloadError {
  field?: string | null;
  code: string;
  message: string;
}

/** The payload's errors by the input field they name; errors naming no known field go to ''. */
export function errorsByField(
  errors: readonly PayloadError[],
  fields: readonly string[],
): Record<string, string> {
  const known = new Set(fields);
  const byField: Record<string, string> = {};
  for (const error of errors) {
    const field = error.field && known.has(error.field) ? error.field : '';
    byField[field] = byField[field] ? `${byField[field]} ${error.message}` : error.message;
  }
  return byField;
}
