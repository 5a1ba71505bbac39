/**
 * GraphiQL's first tabs: one working example of each thing the API does, in
 * the order a newcomer runs them on an empty store (the create first; the
 * others use the user it makes). test/server/graphiql.e2e.test.ts runs each
 * tab, as shipped, against a fresh server.
 */
// Inputs are written into the documents, not passed as variables: in a browser,
// the GraphiQL that yoga bundles opened a tab's variables editor empty, so an
// example that needed variables failed as shipped.
export type GraphiQLTab = Readonly<{ query: string }>;

export const graphiqlTabs: readonly GraphiQLTab[] = [
  {
    query: `# 1. Create a user. Run the tabs in order:
# the others use Ada. Run it twice: the answer is
# UserAlreadyExists, a typed result, not an error.
mutation CreateUser {
  createUser(input: {
    id: "User:ada"
    username: "ada"
    email: "ada@example.com"
  }) {
    __typename
    ... on CreateUserSuccess {
      position
      user { id username email version createdAt }
    }
    ... on Error { message }
    ... on ValidationError { fields { field message } }
  }
}`,
  },
  {
    query: `# 2. Page users forward, oldest first. For the
# next page, pass pageInfo.endCursor as $after.
query UsersForward($first: Int = 5, $after: String) {
  users(first: $first, after: $after) {
    totalCount
    edges { cursor node { id username version } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`,
  },
  {
    query: `# 3. Page users backward. For older users,
# pass pageInfo.startCursor as $before.
query UsersBackward($last: Int = 5, $before: String) {
  users(last: $last, before: $before) {
    edges { cursor node { id username version } }
    pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
  }
}`,
  },
  {
    query: `# 4. Update with optimistic concurrency:
# expectedVersion is the version you last saw.
# Run it twice: the second answer is VersionConflict.
mutation UpdateUser {
  updateUser(input: {
    id: "User:ada"
    username: "ada_lovelace"
    expectedVersion: 1
  }) {
    __typename
    ... on UpdateUserSuccess { position user { id username version updatedAt } }
    ... on VersionConflict { expectedVersion actualVersion message }
    ... on Error { message }
  }
}`,
  },
  {
    query: `# 5. Stream events: "0" replays the whole log,
# then follows it live. A mutation's \`position\`
# as $after shows only what came after it.
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
    query: `# 6. Refetch any object by its global id
# (Relay's Node interface).
query Node($id: ID! = "User:ada") {
  node(id: $id) {
    __typename
    id
    ... on User { username email version }
  }
}`,
  },
];
