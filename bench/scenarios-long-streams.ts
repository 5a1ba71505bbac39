/**
 * Scenario 9: users whose streams hold 10, 10³ and 10⁵ events. Snapshots
 * (SNAPSHOT_EVERY) are what keeps `updateUser` and `user(asOf:)` from
 * reading a long stream from its start; the figures at 10⁵ events are set
 * against those at 10, measured in the same run.
 */
import type { BenchConfig } from './config.js';
import type { Results, Row } from './results.js';
import { startServer } from './servers.js';
import { figure, percentile } from './stats.js';
import type { EventStore, NewEvent } from '../src/kernel/event-store.js';
import { streamIdOf } from '../src/kernel/stream-id.js';
import { defaultSqliteMasterKey } from '../src/stores/master-key-source.js';
import { sealedEventStore } from '../src/stores/sealed-storage.js';
import { createSqliteEventStore } from '../src/stores/sqlite/event-store.js';
import { usersModule } from '../src/users/module.js';
import { EMAIL_SCOPE, emailKey, USER_STREAMS } from '../src/users/user.js';

const SCENARIO = '9 long streams';
const UPDATE = `mutation Update($input: UpdateUserInput!) { updateUser(input: $input) { __typename ... on UpdateUserSuccess { user { version } } } }`;
const AS_OF = `query AsOf($id: ID!, $asOf: UserAsOf!) { user(id: $id, asOf: $asOf) { id username version } }`;

const userOf = (events: number) => `long${events}`;
/** A user no figure is taken on: the server warms up (JIT) on it before the first timed request. */
const WARM_UP_EVENTS = 2;
const label = (events: number) => (events >= 1e3 && Math.log10(events) % 1 === 0 ? `10${'⁰¹²³⁴⁵⁶⁷⁸⁹'[Math.log10(events)]}` : events.toLocaleString('en'));

/** One user per size, created and renamed until their stream holds that many events, straight through the store adapter. */
async function seedLongStreams(store: EventStore, sizes: readonly number[]) {
  const occurredAt = new Date().toISOString();
  for (const size of sizes) {
    const userId = userOf(size);
    const email = `${userId}@example.com`;
    const streamId = streamIdOf(USER_STREAMS, userId);
    let version = 0;
    while (version < size) {
      const events: NewEvent[] = [];
      for (let v = version + 1; v <= Math.min(size, version + 1000); v++) {
        events.push(
          v === 1
            ? { type: 'UserCreated', data: { userId, username: `${userId}_0`, email }, metadata: { occurredAt } }
            : { type: 'UserUpdated', data: { userId, username: `${userId}_${v}` }, metadata: { occurredAt } },
        );
      }
      const appended = await store.append({
        streamId,
        expectedVersion: version,
        events,
        ...(version === 0 ? { claims: [{ scope: EMAIL_SCOPE, value: emailKey(email) }] } : {}),
      });
      if (!appended.ok) throw new Error(`seeding ${streamId} failed: ${JSON.stringify(appended.error)}`);
      version = appended.value.version;
    }
  }
}

async function post(url: string, query: string, variables: Record<string, unknown>): Promise<{ ms: number; problem: string | null }> {
  const started = performance.now();
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const json = (await response.json()) as { data?: Record<string, { __typename?: string; version?: number } | null>; errors?: unknown[] };
  const ms = performance.now() - started;
  if (json.errors?.length) return { ms, problem: JSON.stringify(json.errors).slice(0, 200) };
  const answer = json.data?.['updateUser'] ?? json.data?.['user'];
  if (!answer || (answer.__typename !== undefined && answer.__typename !== 'UpdateUserSuccess')) return { ms, problem: JSON.stringify(json).slice(0, 200) };
  return { ms, problem: null };
}

/**
 * Seeds the users into `dataDir/events.db` (whose read model `rebuild` then builds) and has their
 * snapshots written, then per run starts the server afresh: its first update of each user reads the stream from the newest
 * snapshot (nothing cached yet), the following ones are timed one at a time, as are
 * `user(asOf: { version })` lookups at random versions.
 */
export async function longStreams(
  config: BenchConfig,
  dataDir: string,
  rebuild: (dataDir: string) => Promise<number>,
  results: Results,
  log: (text: string) => void,
): Promise<void> {
  const sizes = config.longStreamSizes;
  const raw = createSqliteEventStore({ path: `${dataDir}/events.db` });
  try {
    // Sealed as the server stores them, under the key the server on this DATA_DIR will use: it refuses a store holding plaintext.
    const { store } = await sealedEventStore(raw, defaultSqliteMasterKey(dataDir, () => {}), [usersModule.personalData!], false);
    await seedLongStreams(store, [WARM_UP_EVENTS, ...sizes]);
  } finally {
    await raw.close();
  }
  await rebuild(dataDir);
  // Seeding went around the command handler, so no stream has snapshots yet: one update and one
  // lookup per user write them (reading the whole stream once), as a first command would in production.
  const warmUp = await startServer('ours', { dataDir });
  try {
    for (const size of sizes) {
      const id = userOf(size);
      for (const [query, variables] of [
        [UPDATE, { input: { id, username: `${id}_warm` } }],
        [AS_OF, { id, asOf: { version: size } }],
      ] as const) {
        const { problem } = await post(warmUp.url, query, variables);
        if (problem) throw new Error(`${SCENARIO}: warming ${id} up failed: ${problem}`);
      }
    }
  } finally {
    await warmUp.stop();
  }
  const runs = new Map(sizes.map((size) => [size, { first: [] as number[], update: [] as number[], asOf: [] as number[], errors: 0 }]));
  for (let run = 0; run < config.runs; run++) {
    const server = await startServer('ours', { dataDir });
    try {
      const warm = userOf(WARM_UP_EVENTS);
      for (let i = 0; i < config.longStreamSamples; i++) {
        await post(server.url, UPDATE, { input: { id: warm, username: `${warm}_r${run}_${i}` } });
        await post(server.url, AS_OF, { id: warm, asOf: { version: 1 } });
      }
      for (const size of sizes) {
        const own = runs.get(size)!;
        const id = userOf(size);
        const check = (outcome: { ms: number; problem: string | null }) => {
          if (outcome.problem) {
            own.errors += 1;
            results.problems.push(`${SCENARIO} ${label(size)}: ${outcome.problem}`);
          }
          return outcome.ms;
        };
        own.first.push(check(await post(server.url, UPDATE, { input: { id, username: `${id}_r${run}_first` } })));
        // Settle in (the JIT) before timing.
        for (let i = 0; i < config.longStreamSamples / 4; i++) {
          await post(server.url, AS_OF, { id, asOf: { version: 1 + Math.floor(Math.random() * size) } });
        }
        const updates: number[] = [];
        const lookups: number[] = [];
        for (let i = 0; i < config.longStreamSamples; i++) {
          updates.push(check(await post(server.url, UPDATE, { input: { id, username: `${id}_r${run}_${i}` } })));
          lookups.push(check(await post(server.url, AS_OF, { id, asOf: { version: 1 + Math.floor(Math.random() * size) } })));
        }
        own.update.push(percentile(updates, 50));
        own.asOf.push(percentile(lookups, 50));
      }
    } finally {
      await server.stop();
    }
    log(`  run ${run + 1}/${config.runs} done`);
  }

  const row = (metric: string, runsOf: number[], errors: number, extra: Partial<Row> = {}): Row => ({
    scenario: SCENARIO,
    metric,
    unit: 'ms',
    ours: figure(runsOf),
    errors,
    ...extra,
  });
  for (const size of sizes) {
    const r = runs.get(size)!;
    results.rows.push(row(`updateUser p50, stream of ${label(size)} events`, r.update, r.errors));
    results.rows.push(row(`user(asOf: {version}) p50, stream of ${label(size)} events`, r.asOf, r.errors));
    results.rows.push(row(`first updateUser after start (from snapshot), ${label(size)} events`, r.first, r.errors, { note: 'one request per run' }));
  }
  const smallest = runs.get(sizes[0]!)!;
  const largest = runs.get(sizes.at(-1)!)!;
  for (const [name, key] of [['updateUser', 'update'], ['user(asOf:)', 'asOf']] as const) {
    const growth = largest[key].map((value, i) => value / smallest[key][i]!);
    const ratio = figure(growth);
    results.rows.push({
      scenario: SCENARIO,
      metric: `${name}: p50 at ${label(sizes.at(-1)!)} ÷ at ${label(sizes[0]!)} events`,
      unit: '×',
      ours: ratio,
      target: { text: '≤ 1.5×', met: ratio.median <= 1.5 },
      errors: smallest.errors + largest.errors,
    });
  }
}
