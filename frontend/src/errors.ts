/** A payload error as every mutation answers it: the input field it names, a code, a message. */
export interface PayloadError {
  field?: string | null;
  code: string;
  message: string;
}

type Translate = (key: string, options?: Record<string, unknown>) => string;

/** The server's message without the input path it begins with ("name: a group named …"): the
 * form shows it at that field already. */
export function messageOf(error: PayloadError): string {
  const match = /^([A-Za-z][\w.]*): /.exec(error.message);
  const field = error.field;
  if (!match || !field) return error.message;
  const path = match[1];
  const same = field === path || field.startsWith(`${path}.`) || path.startsWith(`${field}.`);
  return same ? error.message.slice(match[0].length) : error.message;
}

/** A payload error as the user reads it. The server speaks English, the API's language; a
 * locale may lead with what the error's code means in its own (issue 11 item 8). */
export function errorText(error: PayloadError, t: Translate): string {
  const summary = t(`errorCode.${error.code}`, { defaultValue: '' });
  const detail = messageOf(error);
  return summary ? t('errors.payload', { summary, detail }) : detail;
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

/** The payload's errors by the input field they name, as the user reads them (``errorText``);
 * errors naming no known field go to ''. */
export function errorsByField(
  errors: readonly PayloadError[],
  fields: readonly string[],
  t: Translate,
): Record<string, string> {
  const known = new Set(fields);
  const byField: Record<string, string> = {};
  for (const error of errors) {
    const field = fieldOf(error.field, known);
    const text = errorText(error, t);
    byField[field] = byField[field] ? `${byField[field]} ${text}` : text;
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
