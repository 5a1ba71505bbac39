import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './errors.js';
import './node.js';
import '../users/graphql/user-type.js';
import '../users/graphql/mutations.js';
import '../users/graphql/events.js';

export const schema: GraphQLSchema = builder.toSchema({ sortSchema: true });

/** The contract as checked in to schema.graphql. */
export const printedSchema = (): string => `${printSchema(lexicographicSortSchema(schema))}\n`;
