/* eslint-disable */
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type Maybe<T> = T | null;
export type InputMaybe<T> = T | null | undefined;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** A date-time string at UTC, such as 2007-12-03T10:15:30Z, compliant with the `date-time` format outlined in section 5.6 of the RFC 3339 profile of the ISO 8601 standard for representation of dates and times using the Gregorian calendar. */
  DateTime: { input: string; output: string; }
};

export type CreateUserInput = {
  /** Unique among users, compared ignoring case; at most 254 characters. */
  email: Scalars['String']['input'];
  /** Optional, chosen by the client: a global id `User:<user id>`, or the bare user id: 1-64 letters, digits, "_" or "-". Generated (UUID v7) when absent. */
  id?: InputMaybe<Scalars['ID']['input']>;
  /** Repeating a request with the same key and input returns the first outcome and changes nothing. 1-255 printable ASCII characters. */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  /** 3-32 letters, digits, "_", "." or "-" after trimming. */
  username: Scalars['String']['input'];
};

export type CreateUserResult = CreateUserSuccess | EmailTaken | StreamUnreadable | Unauthenticated | UserAlreadyExists | ValidationError;

export type CreateUserSuccess = {
  __typename?: 'CreateUserSuccess';
  /** Global position of the last event this mutation appended; pass it as `after` to `userEvents`. */
  position: Scalars['String']['output'];
  user: User;
};

export type EmailTaken = Error & {
  __typename?: 'EmailTaken';
  email: Scalars['String']['output'];
  message: Scalars['String']['output'];
};

export type EraseUserInput = {
  /** A global id (`User:…`), or a user id stored before global ids existed. */
  id: Scalars['ID']['input'];
  /** Repeating a request with the same key and input returns the first outcome and changes nothing. 1-255 printable ASCII characters. */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
};

export type EraseUserResult = EraseUserSuccess | Forbidden | StreamUnreadable | Unauthenticated | UserNotFound | ValidationError;

export type EraseUserSuccess = {
  __typename?: 'EraseUserSuccess';
  /** Global position of the last event this mutation appended; pass it as `after` to `userEvents`. */
  position: Scalars['String']['output'];
  user: User;
};

/** An expected failure: the request was understood and refused. */
export type Error = {
  message: Scalars['String']['output'];
};

export type EventConnection = {
  __typename?: 'EventConnection';
  edges: Array<EventEdge>;
  pageInfo: PageInfo;
};

export type EventEdge = {
  __typename?: 'EventEdge';
  cursor: Scalars['String']['output'];
  node: LoggedEvent;
};

export type FieldError = {
  __typename?: 'FieldError';
  /** Input field name, as in the GraphQL input type. */
  field: Scalars['String']['output'];
  message: Scalars['String']['output'];
};

/** The bearer token does not allow this operation. */
export type Forbidden = Error & {
  __typename?: 'Forbidden';
  message: Scalars['String']['output'];
};

/** An event as the log stores it, of any kind: what the `events` audit feed lists. Every event type implements it. */
export type LoggedEvent = {
  /** The id of the request that wrote it (`x-request-id`), for finding its log lines. */
  correlationId?: Maybe<Scalars['String']['output']>;
  occurredAt: Scalars['DateTime']['output'];
  /** Global position in the event log: the cursor of its edge; pass it as `after` to resume after this event. */
  position: Scalars['String']['output'];
  /** The version of its stream (its entity) this event produced. */
  version: Scalars['Int']['output'];
};

export type Mutation = {
  __typename?: 'Mutation';
  /** With authentication on: any valid bearer token. */
  createUser: CreateUserResult;
  /** Destroys the user’s personal data: `username` and `email` read null from then on, everywhere (the user, its history, time travel, the events feed), and the email may be registered again. The user, their id and their events stay. With authentication on: an admin’s bearer token. */
  eraseUser: EraseUserResult;
  /** With authentication on: a bearer token whose subject is the user's id, or an admin's. */
  updateUser: UpdateUserResult;
};


export type MutationCreateUserArgs = {
  input: CreateUserInput;
};


export type MutationEraseUserArgs = {
  input: EraseUserInput;
};


export type MutationUpdateUserArgs = {
  input: UpdateUserInput;
};

/** An object with a global id, which `node(id:)` finds again (Relay Global Object Identification). */
export type Node = {
  /** Global id: `<Type>:<id>`, such as `User:0190a1b2-…`. Opaque to clients; stable for good. */
  id: Scalars['ID']['output'];
};

export type OrderDirection =
  /** Ascending. */
  | 'ASC'
  /** Descending. */
  | 'DESC';

export type PageInfo = {
  __typename?: 'PageInfo';
  endCursor?: Maybe<Scalars['String']['output']>;
  hasNextPage: Scalars['Boolean']['output'];
  hasPreviousPage: Scalars['Boolean']['output'];
  startCursor?: Maybe<Scalars['String']['output']>;
};

export type Query = {
  __typename?: 'Query';
  /** The audit feed, for admins: every event in the log, oldest first. Each cursor is the event’s `position`, as `userEvents(after:)` takes it. `first`/`last` default to 20 and may be at most 100. */
  events: EventConnection;
  /** The object with this global id; null when there is none (or none of that type). A malformed id is BAD_USER_INPUT. */
  node?: Maybe<Node>;
  /** The objects with these global ids, in order; null for each id that names nothing. At most 100 ids, loaded in one read per type. */
  nodes: Array<Maybe<Node>>;
  /** The user with this id, or null when there is none. With `asOf`, the user as they were then (time travel): folded from their events, null where they did not exist yet. */
  user?: Maybe<User>;
  /** Users in creation order; with `filter` or `orderBy`, the users that match, in that order (the user search read model). Cursors belong to the filter and order they came from: one used with another is refused (BAD_USER_INPUT). `first`/`last` default to 20 and may be at most 100. */
  users: UserConnection;
};


export type QueryEventsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  types?: InputMaybe<Array<Scalars['String']['input']>>;
  userId?: InputMaybe<Scalars['ID']['input']>;
};


export type QueryNodeArgs = {
  id: Scalars['ID']['input'];
};


export type QueryNodesArgs = {
  ids: Array<Scalars['ID']['input']>;
};


export type QueryUserArgs = {
  asOf?: InputMaybe<UserAsOf>;
  id: Scalars['ID']['input'];
};


export type QueryUsersArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<UserFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  orderBy?: InputMaybe<UserOrder>;
};

/** The entity’s history holds an event this server cannot read: written by a newer release, or its upcaster failed. Nothing was changed; the same request succeeds once the server can read it. */
export type StreamUnreadable = Error & {
  __typename?: 'StreamUnreadable';
  eventType: Scalars['String']['output'];
  message: Scalars['String']['output'];
  /** The schema version the event was stored at. */
  schemaVersion: Scalars['Int']['output'];
};

export type Subscription = {
  __typename?: 'Subscription';
  /** User events as they are appended. With `after`, first every stored event after that position, then live, with no gap or duplicate. */
  userEvents: UserEvent;
};


export type SubscriptionUserEventsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  userId?: InputMaybe<Scalars['ID']['input']>;
};

/** The operation needs a bearer token and the request had none. */
export type Unauthenticated = Error & {
  __typename?: 'Unauthenticated';
  message: Scalars['String']['output'];
};

export type UpdateUserInput = {
  email?: InputMaybe<Scalars['String']['input']>;
  /** Fail with VersionConflict unless the user is at this version. */
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  /** A global id (`User:…`), or a user id stored before global ids existed. */
  id: Scalars['ID']['input'];
  /** Repeating a request with the same key and input returns the first outcome and changes nothing. 1-255 printable ASCII characters. */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  username?: InputMaybe<Scalars['String']['input']>;
};

export type UpdateUserResult = EmailTaken | Forbidden | StreamUnreadable | Unauthenticated | UpdateUserSuccess | UserNotFound | ValidationError | VersionConflict;

export type UpdateUserSuccess = {
  __typename?: 'UpdateUserSuccess';
  /** Global position of the last event this mutation appended; pass it as `after` to `userEvents`. */
  position: Scalars['String']['output'];
  user: User;
};

export type User = Node & {
  __typename?: 'User';
  createdAt: Scalars['DateTime']['output'];
  /** Null once the user is erased. With authentication on, visible to the user and admins only; null for everyone else. */
  email?: Maybe<Scalars['String']['output']>;
  /** The user’s personal data (`username`, `email`) is destroyed: they read null. Also true for a past state (history, `asOf`) of a user erased since: their personal data is gone from the whole log. */
  erased: Scalars['Boolean']['output'];
  /** The user’s events, oldest first, each with the user as it left them (`state`). Each cursor is the event’s `position`: after the last page, subscribe to `userEvents(userId:, after: pageInfo.endCursor)` to follow on with no gap and no duplicate. `first`/`last` default to 20 and may be at most 100. */
  history: UserHistoryConnection;
  /** Global id, `User:<user id>`. */
  id: Scalars['ID']['output'];
  updatedAt: Scalars['DateTime']['output'];
  /** Null once the user is erased. */
  username?: Maybe<Scalars['String']['output']>;
  /** Number of events in the user stream; pass it as `expectedVersion`. */
  version: Scalars['Int']['output'];
};


export type UserHistoryArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
};

export type UserAlreadyExists = Error & {
  __typename?: 'UserAlreadyExists';
  message: Scalars['String']['output'];
  /** Global id of the existing user. */
  userId: Scalars['ID']['output'];
};

/** One point in a user’s history: exactly one of `version`, `position` or `time`. */
export type UserAsOf =
  /** The user after their events up to this position in the log (a `position` from an event or a mutation result; "0" is the start); null if created after it. */
  { position: Scalars['String']['input']; time?: never; version?: never; }
  |  /** The user after their events that occurred up to this time; null if created after it. */
  { position?: never; time: Scalars['DateTime']['input']; version?: never; }
  |  /** The user at this version (1 is as created); null before it, or past the user’s latest version. */
  { position?: never; time?: never; version: Scalars['Int']['input']; };

export type UserConnection = {
  __typename?: 'UserConnection';
  edges: Array<UserEdge>;
  pageInfo: PageInfo;
  /** All users, or with `filter`, the users that match it. */
  totalCount: Scalars['Int']['output'];
};

export type UserCreated = LoggedEvent & UserEvent & {
  __typename?: 'UserCreated';
  /** The id of the request that wrote it (`x-request-id`), for finding its log lines. */
  correlationId?: Maybe<Scalars['String']['output']>;
  /** Global id of the user whose bearer token created this user (an admin, or the user themself). Null when no token was needed (authentication off) and for users created before this was recorded (UserCreated v1). */
  createdBy?: Maybe<Scalars['ID']['output']>;
  /** Null once the user is erased. With authentication on, visible to the user and admins only; null for everyone else. */
  email?: Maybe<Scalars['String']['output']>;
  occurredAt: Scalars['DateTime']['output'];
  /** Global position in the event log; pass it as `after` to resume after this event. */
  position: Scalars['String']['output'];
  /** The user exactly as this event left it, for history views. Not a `Node`, so caches keep it apart from `user`. */
  state: UserState;
  /** The user now: at least as new as this event (never older), so a normalised client cache that merges it never moves backwards, even while old events are replayed. */
  user: User;
  /** Global id of the user, `User:<user id>`. */
  userId: Scalars['ID']['output'];
  /** Null once the user is erased. */
  username?: Maybe<Scalars['String']['output']>;
  /** The user version this event produced. */
  version: Scalars['Int']['output'];
};

export type UserEdge = {
  __typename?: 'UserEdge';
  cursor: Scalars['String']['output'];
  node: User;
};

/** The user’s personal data was destroyed: from now on `username` and `email` read null in every event of the user, and `erased` is true in every state. */
export type UserErased = LoggedEvent & UserEvent & {
  __typename?: 'UserErased';
  /** The id of the request that wrote it (`x-request-id`), for finding its log lines. */
  correlationId?: Maybe<Scalars['String']['output']>;
  /** Global id of the admin whose bearer token erased the user. Null when no token was needed (authentication off). */
  erasedBy?: Maybe<Scalars['ID']['output']>;
  occurredAt: Scalars['DateTime']['output'];
  /** Global position in the event log; pass it as `after` to resume after this event. */
  position: Scalars['String']['output'];
  /** The user exactly as this event left it, for history views. Not a `Node`, so caches keep it apart from `user`. */
  state: UserState;
  /** The user now: at least as new as this event (never older), so a normalised client cache that merges it never moves backwards, even while old events are replayed. */
  user: User;
  /** Global id of the user, `User:<user id>`. */
  userId: Scalars['ID']['output'];
  /** The user version this event produced. */
  version: Scalars['Int']['output'];
};

/** A change to a user, as recorded in the event store. */
export type UserEvent = {
  /** The id of the request that wrote it (`x-request-id`), for finding its log lines. */
  correlationId?: Maybe<Scalars['String']['output']>;
  occurredAt: Scalars['DateTime']['output'];
  /** Global position in the event log; pass it as `after` to resume after this event. */
  position: Scalars['String']['output'];
  /** The user exactly as this event left it, for history views. Not a `Node`, so caches keep it apart from `user`. */
  state: UserState;
  /** The user now: at least as new as this event (never older), so a normalised client cache that merges it never moves backwards, even while old events are replayed. */
  user: User;
  /** Global id of the user, `User:<user id>`. */
  userId: Scalars['ID']['output'];
  /** The user version this event produced. */
  version: Scalars['Int']['output'];
};

/** Users matching every field given. An empty string filters nothing. */
export type UserFilter = {
  /** Emails at exactly this domain (the part after "@", without it), ignoring case; subdomains are other domains. Admins only, as emails are private: anyone else gets a FORBIDDEN error. */
  emailDomain?: InputMaybe<Scalars['String']['input']>;
  /** Usernames starting with this, ignoring case (letters, digits, "_", "." and "-", at most 32). */
  usernamePrefix?: InputMaybe<Scalars['String']['input']>;
};

export type UserHistoryConnection = {
  __typename?: 'UserHistoryConnection';
  edges: Array<UserHistoryEdge>;
  pageInfo: PageInfo;
};

export type UserHistoryEdge = {
  __typename?: 'UserHistoryEdge';
  cursor: Scalars['String']['output'];
  node: UserEvent;
};

export type UserNotFound = Error & {
  __typename?: 'UserNotFound';
  message: Scalars['String']['output'];
  /** Global id that names no user. */
  userId: Scalars['ID']['output'];
};

/** How a user search is ordered; each order has cursors of its own. */
export type UserOrder = {
  direction?: OrderDirection;
  field?: UserOrderField;
};

export type UserOrderField =
  /** When the user was created (their position in the log). */
  | 'CREATED_AT'
  /** Username, ignoring case; users with the same username by creation. */
  | 'USERNAME';

/** A user as one event left it. Not a `Node`: caches keep it apart from the current `User`. */
export type UserState = {
  __typename?: 'UserState';
  createdAt: Scalars['DateTime']['output'];
  /** Null once the user is erased. With authentication on, visible to the user and admins only; null for everyone else. */
  email?: Maybe<Scalars['String']['output']>;
  /** The user’s personal data (`username`, `email`) is destroyed: they read null. Also true for a past state (history, `asOf`) of a user erased since: their personal data is gone from the whole log. */
  erased: Scalars['Boolean']['output'];
  updatedAt: Scalars['DateTime']['output'];
  /** Global id of the user, `User:<user id>`. */
  userId: Scalars['ID']['output'];
  /** Null once the user is erased. */
  username?: Maybe<Scalars['String']['output']>;
  /** Number of events in the user stream; pass it as `expectedVersion`. */
  version: Scalars['Int']['output'];
};

/** Only the fields that changed are non-null; once the user is erased, none is. */
export type UserUpdated = LoggedEvent & UserEvent & {
  __typename?: 'UserUpdated';
  /** The id of the request that wrote it (`x-request-id`), for finding its log lines. */
  correlationId?: Maybe<Scalars['String']['output']>;
  /** The new email, null when it did not change. With authentication on, visible to the user and admins only; null for everyone else. */
  email?: Maybe<Scalars['String']['output']>;
  occurredAt: Scalars['DateTime']['output'];
  /** Global position in the event log; pass it as `after` to resume after this event. */
  position: Scalars['String']['output'];
  /** The user exactly as this event left it, for history views. Not a `Node`, so caches keep it apart from `user`. */
  state: UserState;
  /** The user now: at least as new as this event (never older), so a normalised client cache that merges it never moves backwards, even while old events are replayed. */
  user: User;
  /** Global id of the user, `User:<user id>`. */
  userId: Scalars['ID']['output'];
  username?: Maybe<Scalars['String']['output']>;
  /** The user version this event produced. */
  version: Scalars['Int']['output'];
};

export type ValidationError = Error & {
  __typename?: 'ValidationError';
  fields: Array<FieldError>;
  message: Scalars['String']['output'];
};

/** The entity moved on since the version the client decided on. */
export type VersionConflict = Error & {
  __typename?: 'VersionConflict';
  actualVersion: Scalars['Int']['output'];
  expectedVersion: Scalars['Int']['output'];
  message: Scalars['String']['output'];
};

export type EraseUserMutationVariables = Exact<{
  input: EraseUserInput;
}>;


export type EraseUserMutation = { __typename?: 'Mutation', eraseUser:
    | { __typename: 'EraseUserSuccess', position: string, user: { __typename?: 'User', id: string, username?: string | null, email?: string | null, erased: boolean, version: number } }
    | { __typename: 'Forbidden', message: string }
    | { __typename: 'StreamUnreadable', message: string }
    | { __typename: 'Unauthenticated', message: string }
    | { __typename: 'UserNotFound', message: string, userId: string }
    | { __typename: 'ValidationError', message: string }
   };

export type ErasedUserQueryVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type ErasedUserQuery = { __typename?: 'Query', user?: { __typename?: 'User', id: string, username?: string | null, email?: string | null, erased: boolean, version: number, history: { __typename?: 'UserHistoryConnection', edges: Array<{ __typename?: 'UserHistoryEdge', node:
          | { __typename: 'UserCreated', username?: string | null, email?: string | null, version: number, state: { __typename?: 'UserState', username?: string | null, email?: string | null, erased: boolean, version: number } }
          | { __typename: 'UserErased', erasedBy?: string | null, version: number, state: { __typename?: 'UserState', username?: string | null, email?: string | null, erased: boolean, version: number } }
          | { __typename: 'UserUpdated', version: number, changedUsername?: string | null, changedEmail?: string | null, state: { __typename?: 'UserState', username?: string | null, email?: string | null, erased: boolean, version: number } }
         }> } } | null, node?: { __typename: 'User', username?: string | null, email?: string | null, erased: boolean } | null };

export type ErasedUserAsOfQueryVariables = Exact<{
  id: Scalars['ID']['input'];
  version: Scalars['Int']['input'];
}>;


export type ErasedUserAsOfQuery = { __typename?: 'Query', user?: { __typename?: 'User', username?: string | null, email?: string | null, erased: boolean, version: number } | null };

export type ErasureAuditEventsQueryVariables = Exact<{
  userId?: InputMaybe<Scalars['ID']['input']>;
}>;


export type ErasureAuditEventsQuery = { __typename?: 'Query', events: { __typename?: 'EventConnection', edges: Array<{ __typename?: 'EventEdge', node:
        | { __typename: 'UserCreated', version: number }
        | { __typename: 'UserErased', erasedBy?: string | null, version: number, state: { __typename?: 'UserState', username?: string | null, email?: string | null, erased: boolean } }
        | { __typename: 'UserUpdated', version: number }
       }> } };

export type ErasureUsersPageQueryVariables = Exact<{ [key: string]: never; }>;


export type ErasureUsersPageQuery = { __typename?: 'Query', users: { __typename?: 'UserConnection', totalCount: number, edges: Array<{ __typename?: 'UserEdge', node: { __typename?: 'User', id: string, username?: string | null, erased: boolean } }> } };

export type ErasureUserEventsSubscriptionVariables = Exact<{
  userId?: InputMaybe<Scalars['ID']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type ErasureUserEventsSubscription = { __typename?: 'Subscription', userEvents:
    | { __typename: 'UserCreated', version: number, state: { __typename?: 'UserState', username?: string | null, email?: string | null, erased: boolean } }
    | { __typename: 'UserErased', erasedBy?: string | null, version: number, state: { __typename?: 'UserState', username?: string | null, email?: string | null, erased: boolean } }
    | { __typename: 'UserUpdated', version: number, state: { __typename?: 'UserState', username?: string | null, email?: string | null, erased: boolean } }
   };

export type ErasureSearchQueryVariables = Exact<{
  prefix: Scalars['String']['input'];
}>;


export type ErasureSearchQuery = { __typename?: 'Query', users: { __typename?: 'UserConnection', totalCount: number, edges: Array<{ __typename?: 'UserEdge', node: { __typename?: 'User', id: string } }> } };

export type UserHistoryQueryVariables = Exact<{
  id: Scalars['ID']['input'];
  first?: InputMaybe<Scalars['Int']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
}>;


export type UserHistoryQuery = { __typename?: 'Query', user?: { __typename?: 'User', id: string, history: { __typename?: 'UserHistoryConnection', edges: Array<{ __typename?: 'UserHistoryEdge', cursor: string, node:
          | { __typename: 'UserCreated', username?: string | null, email?: string | null, position: string, userId: string, version: number, occurredAt: string, state: { __typename?: 'UserState', userId: string, username?: string | null, email?: string | null, version: number, updatedAt: string } }
          | { __typename: 'UserErased', position: string, userId: string, version: number, occurredAt: string, state: { __typename?: 'UserState', userId: string, username?: string | null, email?: string | null, version: number, updatedAt: string } }
          | { __typename: 'UserUpdated', position: string, userId: string, version: number, occurredAt: string, changedUsername?: string | null, changedEmail?: string | null, state: { __typename?: 'UserState', userId: string, username?: string | null, email?: string | null, version: number, updatedAt: string } }
         }>, pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, hasPreviousPage: boolean, startCursor?: string | null, endCursor?: string | null } } } | null };

export type AuditEventsQueryVariables = Exact<{
  first?: InputMaybe<Scalars['Int']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  types?: InputMaybe<Array<Scalars['String']['input']> | Scalars['String']['input']>;
  userId?: InputMaybe<Scalars['ID']['input']>;
}>;


export type AuditEventsQuery = { __typename?: 'Query', events: { __typename?: 'EventConnection', edges: Array<{ __typename?: 'EventEdge', cursor: string, node:
        | { __typename: 'UserCreated', userId: string, username?: string | null, email?: string | null, position: string, version: number, occurredAt: string, correlationId?: string | null }
        | { __typename: 'UserErased', userId: string, position: string, version: number, occurredAt: string, correlationId?: string | null }
        | { __typename: 'UserUpdated', userId: string, position: string, version: number, occurredAt: string, correlationId?: string | null, changedUsername?: string | null, changedEmail?: string | null }
       }>, pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, hasPreviousPage: boolean, startCursor?: string | null, endCursor?: string | null } } };

export type UserFieldsFragment = { __typename?: 'User', id: string, username?: string | null, email?: string | null, version: number, createdAt: string, updatedAt: string };

export type CreateUserMutationVariables = Exact<{
  input: CreateUserInput;
}>;


export type CreateUserMutation = { __typename?: 'Mutation', createUser:
    | { __typename: 'CreateUserSuccess', position: string, user: { __typename?: 'User', id: string, username?: string | null, email?: string | null, version: number, createdAt: string, updatedAt: string } }
    | { __typename: 'EmailTaken', message: string, email: string }
    | { __typename: 'StreamUnreadable' }
    | { __typename: 'Unauthenticated', message: string }
    | { __typename: 'UserAlreadyExists', message: string, userId: string }
    | { __typename: 'ValidationError', message: string, fields: Array<{ __typename?: 'FieldError', field: string, message: string }> }
   };

export type UpdateUserMutationVariables = Exact<{
  input: UpdateUserInput;
}>;


export type UpdateUserMutation = { __typename?: 'Mutation', updateUser:
    | { __typename: 'EmailTaken', message: string, email: string }
    | { __typename: 'Forbidden', message: string }
    | { __typename: 'StreamUnreadable' }
    | { __typename: 'Unauthenticated', message: string }
    | { __typename: 'UpdateUserSuccess', position: string, user: { __typename?: 'User', id: string, username?: string | null, email?: string | null, version: number, createdAt: string, updatedAt: string } }
    | { __typename: 'UserNotFound', message: string, userId: string }
    | { __typename: 'ValidationError', message: string, fields: Array<{ __typename?: 'FieldError', field: string, message: string }> }
    | { __typename: 'VersionConflict', message: string, expectedVersion: number, actualVersion: number }
   };

export type UserQueryVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type UserQuery = { __typename?: 'Query', user?: { __typename?: 'User', id: string, username?: string | null, email?: string | null, version: number, createdAt: string, updatedAt: string } | null };

export type UsersQueryVariables = Exact<{
  first?: InputMaybe<Scalars['Int']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
}>;


export type UsersQuery = { __typename?: 'Query', users: { __typename?: 'UserConnection', totalCount: number, edges: Array<{ __typename?: 'UserEdge', cursor: string, node: { __typename?: 'User', id: string, username?: string | null, email?: string | null, version: number, createdAt: string, updatedAt: string } }>, pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, hasPreviousPage: boolean, startCursor?: string | null, endCursor?: string | null } } };

export type UserEventsSubscriptionVariables = Exact<{
  userId?: InputMaybe<Scalars['ID']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type UserEventsSubscription = { __typename?: 'Subscription', userEvents:
    | { __typename: 'UserCreated', username?: string | null, email?: string | null, position: string, userId: string, version: number, occurredAt: string }
    | { __typename: 'UserErased', position: string, userId: string, version: number, occurredAt: string }
    | { __typename: 'UserUpdated', position: string, userId: string, version: number, occurredAt: string, changedUsername?: string | null, changedEmail?: string | null }
   };

export type UserAsOfQueryVariables = Exact<{
  id: Scalars['ID']['input'];
  asOf: UserAsOf;
}>;


export type UserAsOfQuery = { __typename?: 'Query', user?: { __typename?: 'User', id: string, username?: string | null, email?: string | null, version: number, createdAt: string, updatedAt: string } | null };

export const UserFieldsFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"UserFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"User"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"email"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}}]} as unknown as DocumentNode<UserFieldsFragment, unknown>;
export const EraseUserDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"EraseUser"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"EraseUserInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"eraseUser"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Error"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UserNotFound"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"userId"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"EraseUserSuccess"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"position"}},{"kind":"Field","name":{"kind":"Name","value":"user"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"email"}},{"kind":"Field","name":{"kind":"Name","value":"erased"}},{"kind":"Field","name":{"kind":"Name","value":"version"}}]}}]}}]}}]}}]} as unknown as DocumentNode<EraseUserMutation, EraseUserMutationVariables>;
export const ErasedUserDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ErasedUser"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"user"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"email"}},{"kind":"Field","name":{"kind":"Name","value":"erased"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"history"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"20"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UserCreated"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"email"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UserUpdated"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","alias":{"kind":"Name","value":"changedUsername"},"name":{"kind":"Name","value":"username"}},{"kind":"Field","alias":{"kind":"Name","value":"changedEmail"},"name":{"kind":"Name","value":"email"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UserErased"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"erasedBy"}}]}},{"kind":"Field","name":{"kind":"Name","value":"state"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"email"}},{"kind":"Field","name":{"kind":"Name","value":"erased"}},{"kind":"Field","name":{"kind":"Name","value":"version"}}]}}]}}]}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"node"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"User"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"email"}},{"kind":"Field","name":{"kind":"Name","value":"erased"}}]}}]}}]}}]} as unknown as DocumentNode<ErasedUserQuery, ErasedUserQueryVariables>;
export const ErasedUserAsOfDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ErasedUserAsOf"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"version"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"user"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}},{"kind":"Argument","name":{"kind":"Name","value":"asOf"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"version"},"value":{"kind":"Variable","name":{"kind":"Name","value":"version"}}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"email"}},{"kind":"Field","name":{"kind":"Name","value":"erased"}},{"kind":"Field","name":{"kind":"Name","value":"version"}}]}}]}}]} as unknown as DocumentNode<ErasedUserAsOfQuery, ErasedUserAsOfQueryVariables>;
export const ErasureAuditEventsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ErasureAuditEvents"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"userId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"events"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"50"}},{"kind":"Argument","name":{"kind":"Name","value":"userId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"userId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UserErased"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"erasedBy"}},{"kind":"Field","name":{"kind":"Name","value":"state"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"email"}},{"kind":"Field","name":{"kind":"Name","value":"erased"}}]}}]}}]}}]}}]}}]}}]} as unknown as DocumentNode<ErasureAuditEventsQuery, ErasureAuditEventsQueryVariables>;
export const ErasureUsersPageDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ErasureUsersPage"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"users"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"50"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"erased"}}]}}]}}]}}]}}]} as unknown as DocumentNode<ErasureUsersPageQuery, ErasureUsersPageQueryVariables>;
export const ErasureUserEventsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"ErasureUserEvents"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"userId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"userEvents"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"userId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"userId"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UserErased"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"erasedBy"}}]}},{"kind":"Field","name":{"kind":"Name","value":"state"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"email"}},{"kind":"Field","name":{"kind":"Name","value":"erased"}}]}}]}}]}}]} as unknown as DocumentNode<ErasureUserEventsSubscription, ErasureUserEventsSubscriptionVariables>;
export const ErasureSearchDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ErasureSearch"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"prefix"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"users"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"10"}},{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"usernamePrefix"},"value":{"kind":"Variable","name":{"kind":"Name","value":"prefix"}}}]}},{"kind":"Argument","name":{"kind":"Name","value":"orderBy"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"field"},"value":{"kind":"EnumValue","value":"USERNAME"}},{"kind":"ObjectField","name":{"kind":"Name","value":"direction"},"value":{"kind":"EnumValue","value":"ASC"}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}}]}}]}}]}}]}}]} as unknown as DocumentNode<ErasureSearchQuery, ErasureSearchQueryVariables>;
export const UserHistoryDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"UserHistory"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"last"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"before"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"user"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"history"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}},{"kind":"Argument","name":{"kind":"Name","value":"last"},"value":{"kind":"Variable","name":{"kind":"Name","value":"last"}}},{"kind":"Argument","name":{"kind":"Name","value":"before"},"value":{"kind":"Variable","name":{"kind":"Name","value":"before"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"position"}},{"kind":"Field","name":{"kind":"Name","value":"userId"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"occurredAt"}},{"kind":"Field","name":{"kind":"Name","value":"state"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"userId"}},{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"email"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UserCreated"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"email"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UserUpdated"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","alias":{"kind":"Name","value":"changedUsername"},"name":{"kind":"Name","value":"username"}},{"kind":"Field","alias":{"kind":"Name","value":"changedEmail"},"name":{"kind":"Name","value":"email"}}]}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"hasPreviousPage"}},{"kind":"Field","name":{"kind":"Name","value":"startCursor"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}}]}}]}}]} as unknown as DocumentNode<UserHistoryQuery, UserHistoryQueryVariables>;
export const AuditEventsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"AuditEvents"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"last"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"before"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"types"}},"type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"userId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"events"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}},{"kind":"Argument","name":{"kind":"Name","value":"last"},"value":{"kind":"Variable","name":{"kind":"Name","value":"last"}}},{"kind":"Argument","name":{"kind":"Name","value":"before"},"value":{"kind":"Variable","name":{"kind":"Name","value":"before"}}},{"kind":"Argument","name":{"kind":"Name","value":"types"},"value":{"kind":"Variable","name":{"kind":"Name","value":"types"}}},{"kind":"Argument","name":{"kind":"Name","value":"userId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"userId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"position"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"occurredAt"}},{"kind":"Field","name":{"kind":"Name","value":"correlationId"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UserEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"userId"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UserCreated"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"email"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UserUpdated"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","alias":{"kind":"Name","value":"changedUsername"},"name":{"kind":"Name","value":"username"}},{"kind":"Field","alias":{"kind":"Name","value":"changedEmail"},"name":{"kind":"Name","value":"email"}}]}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"hasPreviousPage"}},{"kind":"Field","name":{"kind":"Name","value":"startCursor"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}}]}}]} as unknown as DocumentNode<AuditEventsQuery, AuditEventsQueryVariables>;
export const CreateUserDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CreateUser"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CreateUserInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createUser"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"CreateUserSuccess"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"position"}},{"kind":"Field","name":{"kind":"Name","value":"user"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"UserFields"}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ValidationError"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"fields"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UserAlreadyExists"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"userId"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"EmailTaken"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"email"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Unauthenticated"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"UserFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"User"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"email"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}}]} as unknown as DocumentNode<CreateUserMutation, CreateUserMutationVariables>;
export const UpdateUserDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"UpdateUser"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UpdateUserInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"updateUser"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UpdateUserSuccess"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"position"}},{"kind":"Field","name":{"kind":"Name","value":"user"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"UserFields"}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ValidationError"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"fields"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UserNotFound"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"userId"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"EmailTaken"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"email"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"VersionConflict"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"expectedVersion"}},{"kind":"Field","name":{"kind":"Name","value":"actualVersion"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Unauthenticated"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Forbidden"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"UserFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"User"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"email"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}}]} as unknown as DocumentNode<UpdateUserMutation, UpdateUserMutationVariables>;
export const UserDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"User"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"user"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"UserFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"UserFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"User"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"email"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}}]} as unknown as DocumentNode<UserQuery, UserQueryVariables>;
export const UsersDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Users"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"last"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"before"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"users"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}},{"kind":"Argument","name":{"kind":"Name","value":"last"},"value":{"kind":"Variable","name":{"kind":"Name","value":"last"}}},{"kind":"Argument","name":{"kind":"Name","value":"before"},"value":{"kind":"Variable","name":{"kind":"Name","value":"before"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"UserFields"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"hasPreviousPage"}},{"kind":"Field","name":{"kind":"Name","value":"startCursor"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"UserFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"User"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"email"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}}]} as unknown as DocumentNode<UsersQuery, UsersQueryVariables>;
export const UserEventsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"UserEvents"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"userId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"userEvents"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"userId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"userId"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"position"}},{"kind":"Field","name":{"kind":"Name","value":"userId"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"occurredAt"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UserCreated"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"email"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UserUpdated"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","alias":{"kind":"Name","value":"changedUsername"},"name":{"kind":"Name","value":"username"}},{"kind":"Field","alias":{"kind":"Name","value":"changedEmail"},"name":{"kind":"Name","value":"email"}}]}}]}}]}}]} as unknown as DocumentNode<UserEventsSubscription, UserEventsSubscriptionVariables>;
export const UserAsOfDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"UserAsOf"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"asOf"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UserAsOf"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"user"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}},{"kind":"Argument","name":{"kind":"Name","value":"asOf"},"value":{"kind":"Variable","name":{"kind":"Name","value":"asOf"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"UserFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"UserFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"User"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"email"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}}]} as unknown as DocumentNode<UserAsOfQuery, UserAsOfQueryVariables>;