import { writeFileSync } from 'node:fs';
import { printedSchema } from '../src/graphql/schema.js';
import { modules } from '../src/modules.js';

/** Writes the sorted SDL of the Pothos schema to schema.graphql (the checked-in contract). */
writeFileSync(new URL('../schema.graphql', import.meta.url), printedSchema(modules));
process.stdout.write('wrote schema.graphql\n');
