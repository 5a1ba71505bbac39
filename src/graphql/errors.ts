import { GraphQLError } from 'graphql';
import type { FieldError, Rejection, StreamUnreadable, ValidationRejection } from '../kernel/command-bus.js';
import type { VersionConflict } from '../kernel/command-handler.js';
import { builder } from './builder.js';

/** Every expected failure in a result union implements this. */
export const ErrorInterface = builder.interfaceRef<Rejection>('Error').implement({
  description: 'An expected failure: the request was understood and refused.',
  fields: (t) => ({ message: t.exposeString('message') }),
});

export const FieldErrorType = builder.objectRef<FieldError>('FieldError').implement({
  fields: (t) => ({
    field: t.exposeString('field', { description: 'Input field name, as in the GraphQL input type.' }),
    message: t.exposeString('message'),
  }),
});

export const ValidationErrorType = builder.objectRef<ValidationRejection>('ValidationError').implement({
  interfaces: [ErrorInterface],
  fields: (t) => ({ fields: t.expose('fields', { type: [FieldErrorType] }) }),
});

export const VersionConflictType = builder.objectRef<VersionConflict>('VersionConflict').implement({
  description: 'The entity moved on since the version the client decided on.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    expectedVersion: t.exposeInt('expectedVersion'),
    actualVersion: t.exposeInt('actualVersion'),
  }),
});

export const StreamUnreadableType = builder.objectRef<StreamUnreadable>('StreamUnreadable').implement({
  description:
    'The entity’s history holds an event this server cannot read: written by a newer release, or its upcaster failed. Nothing was changed; the same request succeeds once the server can read it.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    eventType: t.exposeString('eventType'),
    schemaVersion: t.exposeInt('schemaVersion', { description: 'The schema version the event was stored at.' }),
  }),
});

/** Renames command fields to the input field names the client sent. */
export function withInputFieldNames(rejection: ValidationRejection, names: Readonly<Record<string, string>>): ValidationRejection {
  return { ...rejection, fields: rejection.fields.map((f) => ({ ...f, field: names[f.field] ?? f.field })) };
}

/** A client error outside any result union (bad arguments to a query): shown, not masked. */
export function badUserInput(message: string, argument?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...(argument ? { argument } : {}) } });
}

export type UnauthenticatedRejection = Readonly<{ type: 'Unauthenticated'; message: string }>;
export type ForbiddenRejection = Readonly<{ type: 'Forbidden'; message: string }>;

export const UnauthenticatedType = builder.objectRef<UnauthenticatedRejection>('Unauthenticated').implement({
  description: 'The operation needs a bearer token and the request had none.',
  interfaces: [ErrorInterface],
});

export const ForbiddenType = builder.objectRef<ForbiddenRejection>('Forbidden').implement({
  description: 'The bearer token does not allow this operation.',
  interfaces: [ErrorInterface],
});

export const unauthenticated = (): UnauthenticatedRejection => ({
  type: 'Unauthenticated',
  message: 'This operation needs a bearer token (Authorization: Bearer <token>).',
});
