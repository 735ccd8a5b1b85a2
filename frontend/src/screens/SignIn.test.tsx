import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Client } from 'urql';
import { fromValue } from 'wonka';
import { describe, expect, it, vi } from 'vitest';

import { renderWith } from '../test/render';
import { SignIn } from './SignIn';

interface Operation {
  kind: string;
  variables: { input: Record<string, unknown> };
  query: { definitions: { name?: { value: string } }[] };
}

/** A server whose mutations answer ``answers[operation name]``. */
function server(answers: Record<string, unknown>) {
  const executeMutation = vi.fn((operation: Operation) => {
    const name = operation.query.definitions[0].name!.value;
    return fromValue({ operation, data: answers[name] });
  });
  return { client: { executeMutation } as unknown as Client, executeMutation };
}

describe('signing in', () => {
  it('spends a link from the fragment once and explains a used one', async () => {
    const { client, executeMutation } = server({
      SignInWithLink: { signInWithLink: { signedIn: false, errors: [{ field: 'link', code: 'INVALID', message: 'x' }] } },
    });
    renderWith(<SignIn />, client, '/sign-in#link=abc.def');

    expect(await screen.findByRole('alert')).toHaveProperty('textContent', expect.stringContaining('cannot be used'));
    expect(executeMutation).toHaveBeenCalledTimes(1);
    expect(executeMutation.mock.calls[0][0].variables).toEqual({ input: { link: 'abc.def' } });
  });

  it('says what to start when the bridge is offline, next to the bridge field (R5)', async () => {
    const { client, executeMutation } = server({
      StartBridgeLogin: {
        startBridgeLogin: {
          loginId: null,
          secret: null,
          errors: [{ field: 'bridgeId', code: 'BRIDGE_OFFLINE', message: 'bridge Front desk is not connected' }],
        },
      },
    });
    renderWith(<SignIn />, client, '/sign-in?tenant=t-1&bridge=QnJpZGdlOjE');

    await userEvent.type(screen.getByLabelText(/PIN/), '123456');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));

    await waitFor(() => expect(screen.getByText(/keywarden-bridge run/)).toBeTruthy());
    expect(executeMutation.mock.calls[0][0].variables).toEqual({
      input: { tenantId: 't-1', bridgeId: 'QnJpZGdlOjE', pin: '123456' },
    });
  });

  it('checks the PIN before asking the server', async () => {
    const { client, executeMutation } = server({});
    renderWith(<SignIn />, client, '/sign-in?tenant=t-1&bridge=b-1');

    await userEvent.type(screen.getByLabelText(/PIN/), '12');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));

    expect(await screen.findByText('4 to 8 digits')).toBeTruthy();
    expect(executeMutation).not.toHaveBeenCalled();
  });
});
