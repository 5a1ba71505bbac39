import { graphql } from 'relay-runtime';

/*
 * The app's GraphQL, as a Relay app writes it: read by relay-compiler (which
 * writes ./__generated__/), never imported at run time — without the Babel
 * plugin `graphql` throws when called. The app imports the artifacts instead.
 */

/** One user, refetchable by its global id through `node(id:)`. */
export const userCard = graphql`
  fragment UserCard_user on User @refetchable(queryName: "UserCardRefetchQuery") {
    id
    username
    email
    version
    updatedAt
  }
`;

/** The user list, a Relay connection that pages both ways. */
export const userList = graphql`
  fragment UserList_query on Query
  @refetchable(queryName: "UserListPaginationQuery")
  @argumentDefinitions(first: { type: "Int" }, after: { type: "String" }, last: { type: "Int" }, before: { type: "String" }) {
    users(first: $first, after: $after, last: $last, before: $before) @connection(key: "UserList_users") {
      totalCount
      edges {
        node {
          id
          ...UserCard_user
        }
      }
    }
  }
`;

export const userListQuery = graphql`
  query UserListQuery($first: Int, $after: String, $last: Int, $before: String) {
    ...UserList_query @arguments(first: $first, after: $after, last: $last, before: $before)
  }
`;

export const createUserMutation = graphql`
  mutation RelayAppCreateUserMutation($input: CreateUserInput!) {
    createUser(input: $input) {
      __typename
      ... on CreateUserSuccess {
        position
        user {
          id
          ...UserCard_user
        }
      }
      ... on Error {
        message
      }
    }
  }
`;

export const updateUserMutation = graphql`
  mutation RelayAppUpdateUserMutation($input: UpdateUserInput!) {
    updateUser(input: $input) {
      __typename
      ... on UpdateUserSuccess {
        position
        user {
          id
          ...UserCard_user
        }
      }
      ... on Error {
        message
      }
    }
  }
`;

/** Each event carries the user's current state, so the store record updates from the event alone. */
export const userEventsSubscription = graphql`
  subscription RelayAppUserEventsSubscription($after: String, $userId: ID) {
    userEvents(after: $after, userId: $userId) {
      __typename
      position
      userId
      version
      user {
        id
        ...UserCard_user
      }
    }
  }
`;
