/**
 * The GraphQL half of the second-module proof (test/support/tallies/).
 * Pothos keeps one builder per process and a module's fields, once added,
 * stay: so the schema of the server's own modules is printed first, before
 * any list holding the tallies module is built. This file runs in its own
 * module graph, so no other test has added fields before it.
 */
import { readFileSync } from 'node:fs';
import { findBreakingChanges, isObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { printedSchema, schemaOf } from '../../src/graphql/schema.js';
import { modules } from '../../src/modules.js';
import { talliesModule } from '../support/tallies/module.js';

const checkedIn = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
const rootFields = (schema: ReturnType<typeof schemaOf>, root: 'Query' | 'Mutation') => {
  const type = schema.getType(root);
  if (!isObjectType(type)) throw new Error(`${root} is not an object type`);
  return Object.keys(type.getFields());
};

describe('the schema with a second module', () => {
  it("is schema.graphql for the server's own modules, with the tallies module imported but not listed", () => {
    expect(printedSchema(modules) === checkedIn, 'schema.graphql differs from the schema of src/modules.ts').toBe(true);
    expect(printedSchema(modules)).not.toContain('Tally');
  });

  it('adds the tally types and root fields, and changes nothing the users schema had', () => {
    const base = schemaOf(modules);
    const extended = schemaOf([...modules, talliesModule]);
    const printed = printedSchema([...modules, talliesModule]);
    expect(printed).toContain('tally(id: ID!): Tally\n');
    expect(printed).toContain('openTally(id: ID!): OpenTallyResult!');
    expect(printed).toContain('addToTally(amount: Int!, id: ID!): AddToTallyResult!');
    expect(printed).toContain('union OpenTallyResult = OpenTallySuccess | StreamUnreadable | TallyAlreadyOpen | ValidationError');
    expect(printed).toContain('union AddToTallyResult = AddToTallySuccess | StreamUnreadable | TallyNotFound | ValidationError');

    expect(findBreakingChanges(base, extended)).toEqual([]);
    const added = (root: 'Query' | 'Mutation') => rootFields(extended, root).filter((field) => !rootFields(base, root).includes(field));
    expect(added('Query')).toEqual(['tally']);
    expect(added('Mutation').sort()).toEqual(['addToTally', 'openTally']);
    const newTypes = Object.keys(extended.getTypeMap()).filter((name) => !base.getType(name));
    expect(newTypes.sort()).toEqual(['AddToTallyResult', 'AddToTallySuccess', 'OpenTallyResult', 'OpenTallySuccess', 'Tally', 'TallyAlreadyOpen', 'TallyNotFound']);
  });

  it("keeps the server's schema as it was after the extended one was built (each list's schema is built once)", () => {
    expect(printedSchema(modules) === checkedIn).toBe(true);
  });
});
