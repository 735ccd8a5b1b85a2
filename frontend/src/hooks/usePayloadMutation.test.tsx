import '../i18n';

import { act, renderHook } from '@testing-library/react';
import type { ReactNode } from 'react';
import { CombinedError, Provider, type Client } from 'urql';
import { describe, expect, it, vi } from 'vitest';
import { fromValue } from 'wonka';

import type { ReturnKeyMutation } from '../gql/graphql';
import { ReturnKeyDocument } from '../screens/keyCard/KeyActions';
import { usePayloadMutation } from './usePayloadMutation';

const payloadOf = (data: ReturnKeyMutation) => data.returnKey;
const FIELDS = ['keyId'];

function hookWith(answer: () => object) {
  const executeMutation = vi.fn((operation: object) => fromValue({ operation, ...answer() }));
  const client = { executeMutation } as unknown as Client;
  const wrapper = ({ children }: { children: ReactNode }) => <Provider value={client}>{children}</Provider>;
  return renderHook(() => usePayloadMutation(ReturnKeyDocument, payloadOf, FIELDS), { wrapper });
}

const payload = (errors: object[]) => ({
  data: { returnKey: { key: null, programmingJobs: [], remoteJobs: [], warnings: [], errors } },
});

describe('a mutation as the forms run it (issue 11 item 7)', () => {
  it('answers the payload when the server made the change', async () => {
    const { result } = hookWith(() => payload([]));
    let answered: unknown;
    await act(async () => {
      answered = await result.current.submit({ input: { keyId: 'k1' } });
    });
    expect(answered).toMatchObject({ errors: [], programmingJobs: [] });
    expect(result.current.errors).toEqual({});
  });

  it("puts the payload's errors on the fields they name and keeps their codes", async () => {
    const { result } = hookWith(() =>
      payload([
        { field: 'keyId', code: 'CONFLICT', message: 'keyId: the key is LOST' },
        { field: null, code: 'FORBIDDEN', message: 'missing right keys.issue' },
      ]),
    );
    let answered: unknown = 'unset';
    await act(async () => {
      answered = await result.current.submit({ input: { keyId: 'k1' } });
    });
    expect(answered).toBeNull();
    expect(result.current.errors).toEqual({ keyId: 'the key is LOST', '': 'missing right keys.issue' });
    expect(result.current.payloadErrors.map((e) => e.code)).toEqual(['CONFLICT', 'FORBIDDEN']);
    act(() => result.current.clear());
    expect(result.current.errors).toEqual({});
  });

  it('says so when the request itself fails: nothing fails silently', async () => {
    const { result } = hookWith(() => ({ error: new CombinedError({ networkError: new Error('offline') }) }));
    await act(async () => {
      await result.current.submit({ input: { keyId: 'k1' } });
    });
    expect(result.current.errors['']).toBe('The server cannot be reached. Check your connection and try again.');

    const graphqlError = hookWith(() => ({ error: new CombinedError({ graphQLErrors: ['keyId: not a Key id'] }) }));
    await act(async () => {
      await graphqlError.result.current.submit({ input: { keyId: 'k1' } });
    });
    expect(graphqlError.result.current.errors['']).toBe('Something went wrong: keyId: not a Key id');
  });
});
