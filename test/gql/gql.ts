/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "fragment UserFields on User {\n  id\n  username\n  email\n  version\n  createdAt\n  updatedAt\n}\n\nmutation CreateUser($input: CreateUserInput!) {\n  createUser(input: $input) {\n    __typename\n    ... on CreateUserSuccess {\n      position\n      user {\n        ...UserFields\n      }\n    }\n    ... on ValidationError {\n      message\n      fields {\n        field\n        message\n      }\n    }\n    ... on UserAlreadyExists {\n      message\n      userId\n    }\n    ... on EmailTaken {\n      message\n      email\n    }\n  }\n}\n\nmutation UpdateUser($input: UpdateUserInput!) {\n  updateUser(input: $input) {\n    __typename\n    ... on UpdateUserSuccess {\n      position\n      user {\n        ...UserFields\n      }\n    }\n    ... on ValidationError {\n      message\n      fields {\n        field\n        message\n      }\n    }\n    ... on UserNotFound {\n      message\n      userId\n    }\n    ... on EmailTaken {\n      message\n      email\n    }\n    ... on VersionConflict {\n      message\n      expectedVersion\n      actualVersion\n    }\n  }\n}\n\nquery User($id: ID!) {\n  user(id: $id) {\n    ...UserFields\n  }\n}\n\nquery Users($first: Int, $after: String, $last: Int, $before: String) {\n  users(first: $first, after: $after, last: $last, before: $before) {\n    totalCount\n    edges {\n      cursor\n      node {\n        ...UserFields\n      }\n    }\n    pageInfo {\n      hasNextPage\n      hasPreviousPage\n      startCursor\n      endCursor\n    }\n  }\n}\n\nsubscription UserEvents($userId: ID, $after: String) {\n  userEvents(userId: $userId, after: $after) {\n    __typename\n    position\n    userId\n    version\n    occurredAt\n    ... on UserCreated {\n      username\n      email\n    }\n    ... on UserUpdated {\n      changedUsername: username\n      changedEmail: email\n    }\n  }\n}": typeof types.UserFieldsFragmentDoc,
};
const documents: Documents = {
    "fragment UserFields on User {\n  id\n  username\n  email\n  version\n  createdAt\n  updatedAt\n}\n\nmutation CreateUser($input: CreateUserInput!) {\n  createUser(input: $input) {\n    __typename\n    ... on CreateUserSuccess {\n      position\n      user {\n        ...UserFields\n      }\n    }\n    ... on ValidationError {\n      message\n      fields {\n        field\n        message\n      }\n    }\n    ... on UserAlreadyExists {\n      message\n      userId\n    }\n    ... on EmailTaken {\n      message\n      email\n    }\n  }\n}\n\nmutation UpdateUser($input: UpdateUserInput!) {\n  updateUser(input: $input) {\n    __typename\n    ... on UpdateUserSuccess {\n      position\n      user {\n        ...UserFields\n      }\n    }\n    ... on ValidationError {\n      message\n      fields {\n        field\n        message\n      }\n    }\n    ... on UserNotFound {\n      message\n      userId\n    }\n    ... on EmailTaken {\n      message\n      email\n    }\n    ... on VersionConflict {\n      message\n      expectedVersion\n      actualVersion\n    }\n  }\n}\n\nquery User($id: ID!) {\n  user(id: $id) {\n    ...UserFields\n  }\n}\n\nquery Users($first: Int, $after: String, $last: Int, $before: String) {\n  users(first: $first, after: $after, last: $last, before: $before) {\n    totalCount\n    edges {\n      cursor\n      node {\n        ...UserFields\n      }\n    }\n    pageInfo {\n      hasNextPage\n      hasPreviousPage\n      startCursor\n      endCursor\n    }\n  }\n}\n\nsubscription UserEvents($userId: ID, $after: String) {\n  userEvents(userId: $userId, after: $after) {\n    __typename\n    position\n    userId\n    version\n    occurredAt\n    ... on UserCreated {\n      username\n      email\n    }\n    ... on UserUpdated {\n      changedUsername: username\n      changedEmail: email\n    }\n  }\n}": types.UserFieldsFragmentDoc,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment UserFields on User {\n  id\n  username\n  email\n  version\n  createdAt\n  updatedAt\n}\n\nmutation CreateUser($input: CreateUserInput!) {\n  createUser(input: $input) {\n    __typename\n    ... on CreateUserSuccess {\n      position\n      user {\n        ...UserFields\n      }\n    }\n    ... on ValidationError {\n      message\n      fields {\n        field\n        message\n      }\n    }\n    ... on UserAlreadyExists {\n      message\n      userId\n    }\n    ... on EmailTaken {\n      message\n      email\n    }\n  }\n}\n\nmutation UpdateUser($input: UpdateUserInput!) {\n  updateUser(input: $input) {\n    __typename\n    ... on UpdateUserSuccess {\n      position\n      user {\n        ...UserFields\n      }\n    }\n    ... on ValidationError {\n      message\n      fields {\n        field\n        message\n      }\n    }\n    ... on UserNotFound {\n      message\n      userId\n    }\n    ... on EmailTaken {\n      message\n      email\n    }\n    ... on VersionConflict {\n      message\n      expectedVersion\n      actualVersion\n    }\n  }\n}\n\nquery User($id: ID!) {\n  user(id: $id) {\n    ...UserFields\n  }\n}\n\nquery Users($first: Int, $after: String, $last: Int, $before: String) {\n  users(first: $first, after: $after, last: $last, before: $before) {\n    totalCount\n    edges {\n      cursor\n      node {\n        ...UserFields\n      }\n    }\n    pageInfo {\n      hasNextPage\n      hasPreviousPage\n      startCursor\n      endCursor\n    }\n  }\n}\n\nsubscription UserEvents($userId: ID, $after: String) {\n  userEvents(userId: $userId, after: $after) {\n    __typename\n    position\n    userId\n    version\n    occurredAt\n    ... on UserCreated {\n      username\n      email\n    }\n    ... on UserUpdated {\n      changedUsername: username\n      changedEmail: email\n    }\n  }\n}"): (typeof documents)["fragment UserFields on User {\n  id\n  username\n  email\n  version\n  createdAt\n  updatedAt\n}\n\nmutation CreateUser($input: CreateUserInput!) {\n  createUser(input: $input) {\n    __typename\n    ... on CreateUserSuccess {\n      position\n      user {\n        ...UserFields\n      }\n    }\n    ... on ValidationError {\n      message\n      fields {\n        field\n        message\n      }\n    }\n    ... on UserAlreadyExists {\n      message\n      userId\n    }\n    ... on EmailTaken {\n      message\n      email\n    }\n  }\n}\n\nmutation UpdateUser($input: UpdateUserInput!) {\n  updateUser(input: $input) {\n    __typename\n    ... on UpdateUserSuccess {\n      position\n      user {\n        ...UserFields\n      }\n    }\n    ... on ValidationError {\n      message\n      fields {\n        field\n        message\n      }\n    }\n    ... on UserNotFound {\n      message\n      userId\n    }\n    ... on EmailTaken {\n      message\n      email\n    }\n    ... on VersionConflict {\n      message\n      expectedVersion\n      actualVersion\n    }\n  }\n}\n\nquery User($id: ID!) {\n  user(id: $id) {\n    ...UserFields\n  }\n}\n\nquery Users($first: Int, $after: String, $last: Int, $before: String) {\n  users(first: $first, after: $after, last: $last, before: $before) {\n    totalCount\n    edges {\n      cursor\n      node {\n        ...UserFields\n      }\n    }\n    pageInfo {\n      hasNextPage\n      hasPreviousPage\n      startCursor\n      endCursor\n    }\n  }\n}\n\nsubscription UserEvents($userId: ID, $after: String) {\n  userEvents(userId: $userId, after: $after) {\n    __typename\n    position\n    userId\n    version\n    occurredAt\n    ... on UserCreated {\n      username\n      email\n    }\n    ... on UserUpdated {\n      changedUsername: username\n      changedEmail: email\n    }\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;