import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generate } from '@graphql-codegen/cli';
import { afterAll, describe, expect, it } from 'vitest';
import codegenConfig from '../../codegen.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
// Inside the project, so the generated code finds @graphql-typed-document-node/core like an app's would.
mkdirSync(join(root, 'node_modules/.cache'), { recursive: true });
const dir = mkdtempSync(join(root, 'node_modules/.cache/codegen-client-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The project's client-preset settings (codegen.ts), pointed at the client suite's documents. */
function clientPresetConfig() {
  const [target] = Object.values(codegenConfig.generates);
  if (!target || Array.isArray(target) || typeof target !== 'object' || !('preset' in target)) throw new Error('codegen.ts: expected one client-preset output');
  return {
    ...codegenConfig,
    cwd: root,
    silent: true,
    documents: ['test/clients/documents.ts'],
    generates: { [join(relative(root, dir), 'gql/')]: target },
  };
}

/**
 * What an app's own code says about the generated types; tsc proves it. Also
 * that the types the client suites declare by hand agree with the generated ones.
 */
const consumer = (documents: string) => `
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import {
  ClientCreateUserDocument,
  ClientUserEventsDocument,
  ClientUsersDocument,
  type ClientCreateUserMutation,
  type ClientCreateUserMutationVariables,
  type ClientUserEventsSubscription,
  type ClientUsersQuery,
  type ClientUsersQueryVariables,
} from './gql/graphql.js';
import type { ClientUser, UserEvent } from '${documents}';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}

type Event = ClientUserEventsSubscription['userEvents'];
type Node = ClientUsersQuery['users']['edges'][number]['node'];

// DateTime is a string on the wire and in the types.
assertType<Equal<Event['user']['updatedAt'], string>>();
assertType<Equal<Node['createdAt'], string>>();
// The event interface narrows by __typename to its members.
assertType<Equal<Event['__typename'], 'UserCreated' | 'UserUpdated' | 'UserErased'>>();
// Erasure: a user's username may be null, and the type says so.
assertType<Equal<Node['username'], string | null | undefined>>();
assertType<Equal<Event['state']['version'], number>>();

const users: TypedDocumentNode<ClientUsersQuery, ClientUsersQueryVariables> = ClientUsersDocument;
const create: TypedDocumentNode<ClientCreateUserMutation, ClientCreateUserMutationVariables> = ClientCreateUserDocument;
const variables: ClientUsersQueryVariables = { first: 3, after: null };
const input: ClientCreateUserMutationVariables = { input: { username: 'ada', email: 'ada@example.com' } };

// The suites' hand-written result types describe what the generated ones allow.
declare const generatedUser: Node;
declare const generatedEvent: Event;
const asSuitesUser: ClientUser = { ...generatedUser, username: generatedUser.username ?? null, email: generatedUser.email ?? null };
const asSuitesEvent: Pick<UserEvent, 'position' | 'userId' | 'version'> = generatedEvent;

export { users, create, variables, input, asSuitesUser, asSuitesEvent, ClientUserEventsDocument };
`;

describe("codegen's client preset on the client suite's documents", () => {
  it('generates typed documents that compile under tsc --strict in an app', { timeout: 120_000 }, async () => {
    await generate(clientPresetConfig(), true);
    const documents = relative(dir, join(root, 'test/clients/documents.js')).replaceAll('\\', '/');
    writeFileSync(join(dir, 'consumer.ts'), consumer(documents.startsWith('.') ? documents : `./${documents}`));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', skipLibCheck: true, types: [], noUncheckedIndexedAccess: true, verbatimModuleSyntax: true },
        files: ['consumer.ts', 'gql/index.ts'],
      }),
    );
    const outcome = await promisify(execFile)(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json'), '--strict', '--noEmit'], { cwd: dir }).then(
      () => ({ ok: true, output: '' }),
      (error: { stdout?: string; stderr?: string }) => ({ ok: false, output: `${error.stdout ?? ''}${error.stderr ?? ''}` }),
    );
    expect(outcome.ok, outcome.output).toBe(true);
  });
});
