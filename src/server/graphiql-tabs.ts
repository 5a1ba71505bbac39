/**
 * GraphiQL's first tabs: one working example of each thing the API does, in
 * the order a newcomer runs them on an empty store (the create first; the
 * others use the user it makes). test/server/graphiql.e2e.test.ts runs each
 * tab, as shipped, against a fresh server.
 */
export type GraphiQLTab = Readonly<{ query: string; variables?: string }>;

const json = (value: unknown) => JSON.stringify(value, null, 2);

export const graphiqlTabs: readonly GraphiQLTab[] = [
  {
    query: `# 1. Create a user. Run the tabs in order: the others use Ada.
# A second run answers UserAlreadyExists (or EmailTaken): errors are typed results, not exceptions.
mutation CreateUser($input: CreateUserInput!) {
  createUser(input: $input) {
    __typename
    ... on CreateUserSuccess {
      position
      user { id username email version createdAt }
    }
    ... on Error { message }
    ... on ValidationError { fields { field message } }
  }
}`,
    variables: json({ input: { id: 'User:ada', username: 'ada', email: 'ada@example.com' } }),
  },
  {
    query: `# 2. Page users forward, oldest first. Pass pageInfo.endCursor as $after for the next page.
query UsersForward($first: Int = 5, $after: String) {
  users(first: $first, after: $after) {
    totalCount
    edges { cursor node { id username version } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`,
  },
  {
    query: `# 3. Page users backward, newest last. Pass pageInfo.startCursor as $before for older users.
query UsersBackward($last: Int = 5, $before: String) {
  users(last: $last, before: $before) {
    edges { cursor node { id username version } }
    pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
  }
}`,
  },
  {
    query: `# 4. Update with optimistic concurrency: expectedVersion is the version you last saw.
# Run it twice: the second answer is VersionConflict, with the version the user is at now.
mutation UpdateUser($input: UpdateUserInput!) {
  updateUser(input: $input) {
    __typename
    ... on UpdateUserSuccess { position user { id username version updatedAt } }
    ... on VersionConflict { expectedVersion actualVersion message }
    ... on Error { message }
  }
}`,
    variables: json({ input: { id: 'User:ada', username: 'ada_lovelace', expectedVersion: 1 } }),
  },
  {
    query: `# 5. Stream events from a position: "0" replays the whole log, then follows it live.
# Put a mutation's \`position\` in $after to see only what came after it.
subscription UserEvents($after: String = "0") {
  userEvents(after: $after) {
    __typename
    position
    version
    occurredAt
    user { id username version }
    state { username version }
  }
}`,
  },
  {
    query: `# 6. Refetch any object by its global id (Relay's node interface).
query Node($id: ID! = "User:ada") {
  node(id: $id) {
    __typename
    id
    ... on User { username email version }
  }
}`,
  },
];
