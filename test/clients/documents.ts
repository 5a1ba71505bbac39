import { parse } from 'graphql';

/*
 * The operations an app built on this API sends, shared by the Apollo, urql,
 * graphql-ws/graphql-sse and EventSource suites. codegen-client.e2e.test.ts runs
 * GraphQL Code Generator's client preset over this very file (it finds the
 * documents by their `/* GraphQL *\/` comment) and compiles the result under
 * `tsc --strict`, so what the client tests send is also what a typed app compiles.
 */

export const USER_FIELDS = /* GraphQL */ `
  fragment ClientUserFields on User {
    id
    username
    email
    version
    createdAt
    updatedAt
  }
`;

export const CREATE_USER = parse(/* GraphQL */ `
  mutation ClientCreateUser($input: CreateUserInput!) {
    createUser(input: $input) {
      __typename
      ... on CreateUserSuccess {
        position
        user {
          ...ClientUserFields
        }
      }
      ... on Error {
        message
      }
    }
  }
  ${USER_FIELDS}
`);

export const UPDATE_USER = parse(/* GraphQL */ `
  mutation ClientUpdateUser($input: UpdateUserInput!) {
    updateUser(input: $input) {
      __typename
      ... on UpdateUserSuccess {
        position
        user {
          ...ClientUserFields
        }
      }
      ... on Error {
        message
      }
    }
  }
  ${USER_FIELDS}
`);

export const USER = parse(/* GraphQL */ `
  query ClientUser($id: ID!) {
    user(id: $id) {
      ...ClientUserFields
    }
  }
  ${USER_FIELDS}
`);

export const USERS = parse(/* GraphQL */ `
  query ClientUsers($first: Int, $after: String, $last: Int, $before: String) {
    users(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      edges {
        cursor
        node {
          ...ClientUserFields
        }
      }
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
    }
  }
  ${USER_FIELDS}
`);

/** `user` is the read model's state, at least as new as the event: a normalised cache updates from it. */
export const USER_EVENTS = parse(/* GraphQL */ `
  subscription ClientUserEvents($after: String, $userId: ID) {
    userEvents(after: $after, userId: $userId) {
      __typename
      position
      userId
      version
      user {
        ...ClientUserFields
      }
      state {
        userId
        username
        version
      }
    }
  }
  ${USER_FIELDS}
`);

/** What the suites read back from results (the codegen suite checks the generated types agree). */
export type ClientUser = {
  __typename?: 'User';
  id: string;
  /** Null once the user is erased. */
  username: string | null;
  email: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
};

/** A mutation's result union as the suites select it: a success, or any `Error` member with its message. */
export type MutationResult = { __typename: string; position?: string; user?: ClientUser; message?: string };

export type UserEvent = {
  __typename: 'UserCreated' | 'UserUpdated' | 'UserErased';
  position: string;
  userId: string;
  version: number;
  user: ClientUser;
  state: { userId: string; username: string | null; version: number };
};

export type UsersPage = {
  users: {
    totalCount: number;
    edges: { cursor: string; node: ClientUser }[];
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  };
};

/** Only what resuming needs, so the reconnect suite tests the recipe and nothing else. */
export const USER_EVENT_POSITIONS = /* GraphQL */ `
  subscription ClientUserEventPositions($after: String, $userId: ID) {
    userEvents(after: $after, userId: $userId) {
      __typename
      position
      userId
      version
    }
  }
`;
