import { useCallback, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation, type AnyVariables, type TypedDocumentNode } from 'urql';

import { errorsByField, requestErrorText, type PayloadError } from '../errors';

/** A mutation as the forms run it. */
export interface PayloadMutation<Vars, Payload> {
  /** Runs the mutation; the payload on success, null when it failed (the errors say why). */
  submit: (variables: Vars) => Promise<Payload | null>;
  /** Messages by the input field they name; '' holds what names no field of the form. */
  errors: Record<string, string>;
  /** The payload's errors as the server gave them (codes included) */
  payloadErrors: readonly PayloadError[];
  fetching: boolean;
  clear: () => void;
}

interface Failure {
  errors: Record<string, string>;
  payloadErrors: readonly PayloadError[];
}

const NO_FAILURE: Failure = { errors: {}, payloadErrors: [] };

/** Every mutation shows the server's `errors` next to the field they name and the rest above
 * the form; a request that fails outright says so too: nothing fails silently (issue 11 item 7).
 * ``fields`` are the input fields the form shows, ``payloadOf`` picks the payload from the
 * answer. */
export function usePayloadMutation<
  Data,
  Vars extends AnyVariables,
  Payload extends { errors: readonly PayloadError[] },
>(
  document: TypedDocumentNode<Data, Vars>,
  payloadOf: (data: Data) => Payload,
  fields: readonly string[],
): PayloadMutation<Vars, Payload> {
  const { t } = useTranslation();
  const [state, execute] = useMutation<Data, Vars>(document);
  const [failure, setFailure] = useState<Failure>(NO_FAILURE);
  const submit = useCallback(
    async (variables: Vars) => {
      setFailure(NO_FAILURE);
      const result = await execute(variables);
      if (result.error || !result.data) {
        const text = result.error ? requestErrorText(result.error, t) : t('errors.noAnswer');
        setFailure({ errors: { '': text }, payloadErrors: [] });
        return null;
      }
      const payload = payloadOf(result.data);
      if (payload.errors.length) {
        setFailure({ errors: errorsByField(payload.errors, fields, t), payloadErrors: payload.errors });
        return null;
      }
      return payload;
    },
    [execute, payloadOf, fields, t],
  );
  const clear = useCallback(() => setFailure(NO_FAILURE), []);
  return { submit, ...failure, fetching: state.fetching, clear };
}
