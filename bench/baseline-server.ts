/**
 * The baseline: a bare graphql-yoga server serving the same user/users/
 * createUser/updateUser fields from an in-memory Map — no event store, no
 * durability, no projections. What a user would write over their own table,
 * minus the table. Prints one JSON line with its URL once listening.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga } from 'graphql-yoga';

type User = { id: string; username: string; email: string; version: number; createdAt: string; updatedAt: string; seq: number };

const users = new Map<string, User>();
const ordered: User[] = [];
const emails = new Set<string>();
let position = 0;

function create(id: string, username: string, email: string): User {
  const now = new Date().toISOString();
  const user = { id, username, email, version: 1, createdAt: now, updatedAt: now, seq: ordered.length + 1 };
  users.set(id, user);
  ordered.push(user);
  emails.add(email.toLowerCase());
  position += 1;
  return user;
}

const seeded = Number(process.env['SEED_USERS'] ?? 0);
for (let i = 1; i <= seeded; i++) create(`u${i}`, `user${i}`, `user${i}@example.com`);

// The same cursor format as the real server on SQLite, so the bench can seek either one.
const cursorOf = (user: User) => Buffer.from(`user:sqlite:${user.seq}`).toString('base64url');
const seqOf = (cursor: string) => Number(Buffer.from(cursor, 'base64url').toString().slice('user:sqlite:'.length));

const schema = createSchema({
  typeDefs: /* GraphQL */ `
    type User { id: ID! username: String! email: String! version: Int! createdAt: String! updatedAt: String! }
    type UserEdge { cursor: String! node: User! }
    type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
    type UserConnection { edges: [UserEdge!]! pageInfo: PageInfo! totalCount: Int! }
    type Query { user(id: ID!): User users(first: Int, after: String): UserConnection! }
    interface Error { message: String! }
    type EmailTaken implements Error { message: String! email: String! }
    type UserNotFound implements Error { message: String! userId: ID! }
    type CreateUserSuccess { position: String! user: User! }
    type UpdateUserSuccess { position: String! user: User! }
    union CreateUserResult = CreateUserSuccess | EmailTaken
    union UpdateUserResult = UpdateUserSuccess | UserNotFound | EmailTaken
    input CreateUserInput { id: ID username: String! email: String! idempotencyKey: String }
    input UpdateUserInput { id: ID! username: String email: String expectedVersion: Int idempotencyKey: String }
    type Mutation { createUser(input: CreateUserInput!): CreateUserResult! updateUser(input: UpdateUserInput!): UpdateUserResult! }
  `,
  resolvers: {
    CreateUserResult: { __resolveType: (value: { type: string }) => value.type },
    UpdateUserResult: { __resolveType: (value: { type: string }) => value.type },
    Query: {
      user: (_: unknown, { id }: { id: string }) => users.get(id) ?? null,
      users: (_: unknown, { first, after }: { first?: number | null; after?: string | null }) => {
        const start = after ? seqOf(after) : 0;
        const page = ordered.slice(start, start + (first ?? 20));
        return {
          edges: page.map((node) => ({ cursor: cursorOf(node), node })),
          pageInfo: {
            hasNextPage: start + page.length < ordered.length,
            hasPreviousPage: start > 0,
            startCursor: page[0] ? cursorOf(page[0]) : null,
            endCursor: page.at(-1) ? cursorOf(page.at(-1)!) : null,
          },
          totalCount: ordered.length,
        };
      },
    },
    Mutation: {
      createUser: (_: unknown, { input }: { input: { id?: string; username: string; email: string } }) => {
        if (emails.has(input.email.toLowerCase())) return { type: 'EmailTaken', message: 'Email taken', email: input.email };
        const user = create(input.id ?? crypto.randomUUID(), input.username, input.email);
        return { type: 'CreateUserSuccess', position: String(position), user };
      },
      updateUser: (_: unknown, { input }: { input: { id: string; username?: string; email?: string } }) => {
        const user = users.get(input.id);
        if (!user) return { type: 'UserNotFound', message: 'No such user', userId: input.id };
        if (input.email && input.email.toLowerCase() !== user.email.toLowerCase()) {
          if (emails.has(input.email.toLowerCase())) return { type: 'EmailTaken', message: 'Email taken', email: input.email };
          emails.delete(user.email.toLowerCase());
          emails.add(input.email.toLowerCase());
          user.email = input.email;
        }
        if (input.username) user.username = input.username;
        user.version += 1;
        user.updatedAt = new Date().toISOString();
        position += 1;
        return { type: 'UpdateUserSuccess', position: String(position), user };
      },
    },
  },
});

const yoga = createYoga({ schema, graphiql: false, landingPage: false, logging: false });
const server = createServer(yoga);
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}/graphql` })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
