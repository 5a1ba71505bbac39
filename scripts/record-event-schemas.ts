import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describeDifference, differences, snapshotOf, type EventSchemaSnapshot } from '../src/kernel/event-schema-snapshot.js';
import { modules } from '../src/modules.js';
import { upcastingOf } from '../src/storage.js';

/**
 * Records the event versions declared since the last run in
 * src/event-schemas.json. It only adds: a recorded shape that changed or
 * disappeared is refused, because events stored in it are read forever.
 */
const file = new URL('../src/event-schemas.json', import.meta.url);
const recorded = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as EventSchemaSnapshot) : {};
const current = snapshotOf(upcastingOf(modules));
const found = differences(recorded, current);
const refused = found.filter((difference) => difference.type !== 'unrecorded');
if (refused.length > 0) {
  process.stderr.write(`${refused.map(describeDifference).join('\n')}\n`);
  process.exit(1);
}
writeFileSync(file, `${JSON.stringify(current, null, 2)}\n`);
const added = found.map(({ eventType, version }) => `${eventType} ${version}`);
process.stdout.write(added.length === 0 ? 'src/event-schemas.json is up to date\n' : `recorded ${added.join(', ')} in src/event-schemas.json\n`);
