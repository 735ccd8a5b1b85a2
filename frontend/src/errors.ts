/** A payload error as every mutation answers it: the input field it names, a code, a message. */
export interface PayloadError {
  field?: string | null;
  code: string;
  message: string;
}

/** The known field an error's dotted path falls under: itself, or its longest known prefix
 * (`cylinderIds.2` goes to `cylinderIds`, `validity.validUntil` to `validity` unless that
 * field is known itself); '' when none. */
function fieldOf(path: string | null | undefined, known: ReadonlySet<string>): string {
  let candidate = path ?? '';
  while (candidate) {
    if (known.has(candidate)) return candidate;
    const dot = candidate.lastIndexOf('.');
    candidate = dot < 0 ? '' : candidate.slice(0, dot);
  }
  return '';
}

/** The payload's errors by the input field they name; errors naming no known field go to ''. */
export function errorsByField(
  errors: readonly PayloadError[],
  fields: readonly string[],
): Record<string, string> {
  const known = new Set(fields);
  const byField: Record<string, string> = {};
  for (const error of errors) {
    const field = fieldOf(error.field, known);
    byField[field] = byField[field] ? `${byField[field]} ${error.message}` : error.message;
  }
  return byField;
}

/** What a failed request (no payload at all) tells the user: the server cannot be reached, or
 * the server's GraphQL error messages. */
export function requestErrorText(
  error: { networkError?: Error; graphQLErrors: readonly { message: string }[]; message: string },
  t: (key: string, options?: Record<string, unknown>) => string,
): string {
  if (error.networkError) return t('errors.network');
  const message = error.graphQLErrors.map((e) => e.message).join(' ') || error.message;
  return t('errors.unexpected', { message });
}
