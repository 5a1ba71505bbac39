import { writeFileSync } from 'node:fs';
import { printedSchema } from '../src/graphql/schema.js';

/** Writes the sorted SDL of the Pothos schema to schema.graphql (the checked-in contract). */
writeFileSync(new URL('../schema.graphql', import.meta.url), printedSchema());
process.stdout.write('wrote schema.graphql\n');
