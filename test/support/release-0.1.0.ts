import { readFileSync } from 'node:fs';
import type { EventLog } from '../../src/kernel/event-store.js';
import type { EventMetadata } from '../../src/kernel/messages.js';
import { streamIdOf } from '../../src/kernel/stream-id.js';
import { USER_STREAMS } from '../../src/users/user.js';

/** An event of test/fixtures/release-0.1.0/events.json: as release 0.1.0 stored it. */
export type Release010Event = Readonly<{ streamId: string; streamVersion: number; type: string; schemaVersion: number; data: object; metadata: EventMetadata }>;

export const release010Events = (): readonly Release010Event[] =>
  JSON.parse(readFileSync(new URL('../fixtures/release-0.1.0/events.json', import.meta.url), 'utf8')) as Release010Event[];

/**
 * Appends the fixture's events to a store as they were stored, at their
 * schema version (an explicit version is kept by the upcasting log), into
 * the categorised streams the stores' migration moves 0.1.0's streams to.
 * Claims on emails are not made: load them into a store no user is created in with those emails.
 */
export async function loadRelease010Events(log: Pick<EventLog, 'append'>): Promise<void> {
  for (const { streamId, streamVersion, type, schemaVersion, data, metadata } of release010Events()) {
    const appended = await log.append({
      streamId: streamIdOf(USER_STREAMS, streamId),
      expectedVersion: streamVersion - 1,
      events: [{ type, data, metadata, schemaVersion }],
    });
    if (!appended.ok) throw new Error(`loading the 0.1.0 fixture: ${JSON.stringify(appended.error)}`);
  }
}
