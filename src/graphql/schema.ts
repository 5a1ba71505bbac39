import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import type { AnyModule } from '../module.js';
import { builder } from './builder.js';
import './errors.js';
import './node.js';
import './event-log.js';

const defined = new WeakSet<AnyModule>();
const built = new Map<string, GraphQLSchema>();

/**
 * The schema of these modules: the shared types (errors, `Node`) and each
 * module's root fields. Pothos keeps one builder per process, so a module's
 * fields are added once, the first time a list holds it.
 */
export function schemaOf(modules: readonly AnyModule[]): GraphQLSchema {
  const key = modules.map((module) => module.name).join('\n');
  let schema = built.get(key);
  if (!schema) {
    for (const module of modules) {
      if (defined.has(module)) continue;
      module.graphql?.();
      defined.add(module);
    }
    schema = builder.toSchema({ sortSchema: true });
    built.set(key, schema);
  }
  return schema;
}

/** The contract as checked in to schema.graphql. */
export const printedSchema = (modules: readonly AnyModule[]): string => `${printSchema(lexicographicSortSchema(schemaOf(modules)))}\n`;
