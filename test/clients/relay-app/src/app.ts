import { createClient as createWsClient, type Sink } from 'graphql-ws';
import {
  ConnectionHandler,
  Environment,
  Network,
  Observable,
  RecordSource,
  Store,
  commitLocalUpdate,
  commitMutation,
  fetchQuery,
  requestSubscription,
  type GraphQLResponse,
  type RequestParameters,
  type Variables,
} from 'relay-runtime';
import WebSocket from 'ws';
import createUserMutation, { type RelayAppCreateUserMutation } from './__generated__/RelayAppCreateUserMutation.graphql.js';
import updateUserMutation, { type RelayAppUpdateUserMutation, type UpdateUserInput } from './__generated__/RelayAppUpdateUserMutation.graphql.js';
import userEventsSubscription, { type RelayAppUserEventsSubscription$data } from './__generated__/RelayAppUserEventsSubscription.graphql.js';
import userCardRefetchQuery from './__generated__/UserCardRefetchQuery.graphql.js';
import userListPaginationQuery from './__generated__/UserListPaginationQuery.graphql.js';
import userListQuery from './__generated__/UserListQuery.graphql.js';

/**
 * The Relay app the client suite runs, without React: relay-runtime's
 * Environment over the real server (HTTP for queries and mutations,
 * graphql-ws for subscriptions) and the artifacts relay-compiler wrote
 * from ./operations.ts. What a component would render is read back from the
 * store: the `UserList_users` connection and User records.
 */
export function createRelayApp(urls: { http: string; ws: string }, webSocketImpl: unknown = WebSocket) {
  const ws = createWsClient({ url: urls.ws, webSocketImpl, lazy: true, retryAttempts: 5, retryWait: () => new Promise((r) => setTimeout(r, 50)) });
  const fetchFn = async (params: RequestParameters, variables: Variables): Promise<GraphQLResponse> => {
    const response = await fetch(urls.http, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
      body: JSON.stringify({ operationName: params.name, query: params.text, variables }),
    });
    return (await response.json()) as GraphQLResponse;
  };
  const subscribeFn = (params: RequestParameters, variables: Variables) =>
    Observable.create<GraphQLResponse>((sink) => ws.subscribe({ operationName: params.name, query: params.text ?? '', variables }, sink as Sink));
  const environment = new Environment({ network: Network.create(fetchFn, subscribeFn), store: new Store(new RecordSource()) });

  return {
    environment,
    createUser: (input: { username: string; email: string }) =>
      mutate<RelayAppCreateUserMutation>(createUserMutation, { input }).then((response) => {
        const result = response.createUser;
        if (result.__typename !== 'CreateUserSuccess' || !result.user) throw new Error(`createUser: ${JSON.stringify(result)}`);
        return { id: result.user.id, position: result.position };
      }),
    updateUser: (input: UpdateUserInput) =>
      mutate<RelayAppUpdateUserMutation>(updateUserMutation, { input }).then((response) => {
        const result = response.updateUser;
        if (result.__typename !== 'UpdateUserSuccess' || !result.user) throw new Error(`updateUser: ${JSON.stringify(result)}`);
        return { id: result.user.id, position: result.position };
      }),
    /** The first page, forwards (`first`) or from the end (`last`). */
    loadUsers: (variables: { first: number } | { last: number }) => fetchQuery(environment, userListQuery, variables).toPromise(),
    /** The next page after what the connection holds; the connection handler appends it. */
    loadNextUsers: (count: number) => fetchQuery(environment, userListPaginationQuery, { first: count, after: userList().endCursor }).toPromise(),
    /** The page before what the connection holds; the connection handler prepends it. */
    loadPreviousUsers: (count: number) => fetchQuery(environment, userListPaginationQuery, { last: count, before: userList().startCursor }).toPromise(),
    /** The `@refetchable` User fragment, fetched again through `node(id:)`. */
    refetchUser: (id: string) => fetchQuery(environment, userCardRefetchQuery, { id }, { fetchPolicy: 'network-only' }).toPromise(),
    subscribeUserEvents: (
      variables: { after?: string; userId?: string },
      on: { next: (event: RelayAppUserEventsSubscription$data['userEvents']) => void; error: (error: Error) => void },
    ) =>
      requestSubscription(environment, {
        subscription: userEventsSubscription,
        variables,
        onNext: (response) => response && on.next((response as RelayAppUserEventsSubscription$data).userEvents),
        onError: on.error,
      }),
    userList,
    user,
    dispose: () => ws.dispose(),
  };

  function mutate<Operation extends { variables: Variables; response: unknown }>(
    mutation: Parameters<typeof commitMutation>[1]['mutation'],
    variables: Operation['variables'],
  ): Promise<Operation['response']> {
    return new Promise((resolve, reject) => {
      commitMutation(environment, {
        mutation,
        variables,
        onCompleted: (response, errors) => (errors?.length ? reject(new Error(JSON.stringify(errors))) : resolve(response as Operation['response'])),
        onError: reject,
      });
    });
  }

  /** The `UserList_users` connection as the store holds it: node ids in order, and its page info. */
  function userList() {
    let snapshot = { ids: [] as string[], totalCount: 0, hasNextPage: false, hasPreviousPage: false, startCursor: null as string | null, endCursor: null as string | null };
    commitLocalUpdate(environment, (store) => {
      const connection = ConnectionHandler.getConnection(store.getRoot(), 'UserList_users');
      if (!connection) return;
      const pageInfo = connection.getLinkedRecord('pageInfo');
      snapshot = {
        ids: (connection.getLinkedRecords('edges') ?? []).map((edge) => String(edge?.getLinkedRecord('node')?.getValue('id'))),
        totalCount: Number(connection.getValue('totalCount')),
        hasNextPage: pageInfo?.getValue('hasNextPage') === true,
        hasPreviousPage: pageInfo?.getValue('hasPreviousPage') === true,
        startCursor: (pageInfo?.getValue('startCursor') as string | null | undefined) ?? null,
        endCursor: (pageInfo?.getValue('endCursor') as string | null | undefined) ?? null,
      };
    });
    return snapshot;
  }

  /** The User record in the store (normalised by its global id), or null. */
  function user(id: string): { id: string; username: string; version: number } | null {
    const record = environment.getStore().getSource().get(id);
    if (!record) return null;
    return { id: record['id'] as string, username: record['username'] as string, version: record['version'] as number };
  }
}
