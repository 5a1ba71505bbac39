import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { gql } from './server.js';
import { streamIdOf } from '../../src/kernel/stream-id.js';
import { USER_STREAMS } from '../../src/users/user.js';

export type GraphQLErrorBody = { message: string; extensions?: Record<string, unknown> };

export type Response<TResult> = Readonly<{
  status: number;
  data?: TResult | null;
  errors?: GraphQLErrorBody[];
}>;

/** Sends a generated (typed) document over HTTP POST; the result is typed by the document. */
export async function execute<TResult, TVariables extends Record<string, unknown>>(
  url: string,
  document: TypedDocumentNode<TResult, TVariables>,
  variables?: TVariables,
  headers: Record<string, string> = {},
): Promise<Response<TResult>> {
  const { status, body } = await gql<TResult>(url, print(document), variables, headers);
  return { status, ...body };
}

/** Like `execute`, but fails the test unless the response has data and no errors. */
export async function executeOk<TResult, TVariables extends Record<string, unknown>>(
  url: string,
  document: TypedDocumentNode<TResult, TVariables>,
  variables?: TVariables,
  headers: Record<string, string> = {},
): Promise<TResult> {
  const response = await execute(url, document, variables, headers);
  if (response.status !== 200 || response.errors?.length || response.data == null) {
    throw new Error(`GraphQL request failed (HTTP ${response.status}): ${JSON.stringify(response.errors ?? response)}`);
  }
  return response.data;
}

/** Narrows a result union by `__typename`, failing with the whole value when it is another member. */
export function expectType<T extends { __typename: string }, N extends T['__typename']>(
  value: T,
  typename: N,
): Extract<T, { __typename: N }> {
  if (value.__typename !== typename) throw new Error(`Expected ${typename}, got ${JSON.stringify(value)}`);
  return value as Extract<T, { __typename: N }>;
}

/**
 * Shown when a client error arrives as yoga's masked "Unexpected error.": the
 * server treated our own GraphQLError as unexpected. Under vitest that happens
 * when src/ and graphql-yoga load different copies of graphql (index.mjs vs
 * index.js), so `instanceof GraphQLError` fails; `npm start` is not affected.
 */
export const MASKED_HINT =
  'the error was masked: a GraphQLError from src/ was not recognised by graphql-yoga (two graphql module instances under vitest?)';

/** The user id inside a global id the API returned (`User:<id>`); fails on any other form. */
export function bareUserId(globalId: string): string {
  if (!globalId.startsWith('User:')) throw new Error(`Expected a User global id, got ${JSON.stringify(globalId)}`);
  return globalId.slice('User:'.length);
}

/** The event stream of the user with this global id (`User:u1` → `user-u1`). */
export const userStreamId = (globalId: string): string => streamIdOf(USER_STREAMS, bareUserId(globalId));
