import { vi } from 'vitest';
import type { Client } from 'urql';
import { fromValue, makeSubject, map, type Subject } from 'wonka';

type Vars = Record<string, unknown>;
type Answer = (variables: Vars) => unknown;

interface Operation {
  variables: Vars;
  query: { definitions: { kind: string; name?: { value: string } }[] };
}

function nameOf(operation: Operation): string {
  const definition = operation.query.definitions.find((d) => d.kind === 'OperationDefinition');
  return definition?.name?.value ?? '';
}

/** A GraphQL server for component tests: each operation, by name, answers what ``answers``
 * gives for its variables; calls are recorded by name. An operation it does not know fails the
 * test loudly rather than hanging. */
export function fakeServer(answers: Record<string, Answer>) {
  const calls: Record<string, Vars[]> = {};
  const execute = vi.fn((operation: Operation) => {
    const name = nameOf(operation);
    (calls[name] ??= []).push(operation.variables);
    const answer = answers[name];
    if (!answer) throw new Error(`the fake server has no answer for ${name}`);
    return fromValue({ operation, data: answer(operation.variables), stale: false, hasNext: false });
  });
  // Subscriptions stay open: ``push`` sends each of its subscribers an event.
  const subjects: Record<string, Subject<unknown>> = {};
  const subject = (name: string) => (subjects[name] ??= makeSubject<unknown>());
  const executeSubscription = vi.fn((operation: Operation) =>
    map((data: unknown) => ({ operation, data, stale: false, hasNext: true }))(subject(nameOf(operation)).source),
  );
  const client = { executeQuery: execute, executeMutation: execute, executeSubscription } as unknown as Client;
  const push = (name: string, data: unknown) => subject(name).next(data);
  return { client, calls, push };
}

/** The Viewer query of a signed-in Superadmin-like caller holding ``rights``. */
export function viewer(rights: string[]) {
  return () => ({
    tenant: { name: 'Demo' },
    me: { marking: 'PR-0001', holder: { firstName: 'Ina', lastName: 'Admin' }, roles: [{ name: 'Superadmin' }] },
    myRights: rights,
  });
}

/** One page of ``all`` as a Relay connection, by the request's ``first`` and ``after`` (the
 * cursor is the index of the last row sent). */
export function connectionPage<Node>(all: readonly Node[], variables: Vars) {
  const start = variables.after ? Number(variables.after) : 0;
  const page = all.slice(start, start + ((variables.first as number | undefined) ?? all.length));
  return {
    totalCount: all.length,
    pageInfo: { hasNextPage: start + page.length < all.length, endCursor: String(start + page.length) },
    edges: page.map((node) => ({ node })),
  };
}
