import type { AppendConflict, AppendRequest, Appended, UniqueValue } from '../../kernel/event-store.js';
import type { StoredEvent } from '../../kernel/messages.js';
import { fail, ok, type Result } from '../../kernel/result.js';
import type { PgClient, PgPool } from './database.js';
import { STREAM_VERSION_CONFLICT, UNIQUE_VALUE_TAKEN } from './event-store-schema.js';
import { pgPosition } from './position.js';

export type AppendOutcome = Result<Appended, AppendConflict>;
/** An append's outcome, or the error that left it unknown or undone. */
export type SettledAppend = AppendOutcome | Readonly<{ thrown: unknown }>;

/** The row the append functions return per appended event. */
export type AppendedRow = Readonly<{ appended_transaction_id: string; appended_position: string }>;

/** The appended events, numbered from the expected version, with the positions the database gave them. */
export function appendedFrom(request: AppendRequest, rows: readonly AppendedRow[]): Appended {
  const { streamId, expectedVersion } = request;
  const sorted = [...rows].sort((a, b) => Number(BigInt(a.appended_position) - BigInt(b.appended_position)));
  const events: StoredEvent[] = request.events.map((event, index) => ({
    ...event,
    position: pgPosition(sorted[index]!.appended_transaction_id, sorted[index]!.appended_position),
    streamId,
    streamVersion: expectedVersion + index + 1,
    schemaVersion: event.schemaVersion ?? 1,
  }));
  return { streamId, version: expectedVersion + events.length, position: events.at(-1)!.position, events };
}

/** The conflict behind one of our SQLSTATEs (class CQ), with the DETAIL the function raised it with. */
export function conflictOf(code: string | undefined, detail: string | undefined, request: AppendRequest): AppendConflict | null {
  switch (code) {
    case STREAM_VERSION_CONFLICT: {
      const { streamId, expectedVersion } = request;
      return { type: 'StreamVersionConflict', streamId, expectedVersion, actualVersion: Number(detail) };
    }
    case UNIQUE_VALUE_TAKEN: {
      const [scope, value, ownerStreamId] = JSON.parse(detail!) as [string, string, string];
      return { type: 'UniqueValueTaken', scope, value, ownerStreamId };
    }
    default:
      return null;
  }
}

type BatchRow = AppendedRow & { append_index: number; conflict_code: string | null; conflict_detail: string | null };

/** Where each append's items end in the flattened array (1-based, inclusive): PostgreSQL slices by these. */
const ends = (counts: readonly number[]) => {
  let end = 0;
  return counts.map((count) => (end += count));
};

/**
 * Appends without idempotency keys in one statement, so in one transaction
 * and one commit (`cqrs_append_batch`). Each runs in its own subtransaction:
 * a conflict comes back in its row and undoes only that append. Any other
 * error aborts the whole batch and is thrown.
 */
export async function appendBatch(client: PgClient | PgPool, requests: readonly AppendRequest[]): Promise<AppendOutcome[]> {
  const order = lockOrder(requests);
  const outcomes = await appendInOrder(client, order.map((index) => inLockOrderWithin(requests[index]!)));
  const byRequest: AppendOutcome[] = new Array(requests.length);
  order.forEach((index, sent) => (byRequest[index] = outcomes[sent]!));
  return byRequest;
}

/** The sort key of a unique value: every instance compares the same bytes the same way. */
const lockKey = (unique: UniqueValue) => `${unique.scope}\u0000${unique.value}`;
const byLockKey = (a: UniqueValue, b: UniqueValue) => (lockKey(a) < lockKey(b) ? -1 : lockKey(a) > lockKey(b) ? 1 : 0);

/**
 * The order a group's appends run in: by the first unique value each one
 * claims or frees. Each claim or release locks that value's row until the
 * group commits, so two groups that took the same two values in opposite
 * orders would wait on each other until PostgreSQL's deadlock_timeout (1 s)
 * aborted one. Taken in one global order, the later group simply waits for
 * the earlier one to commit and then meets its claims on their merits.
 * Appends that touch no unique value lock nothing and go first; the sort is
 * stable, so appends of equal keys keep their order of arrival (a claim
 * that an earlier append of the group took is still seen as taken).
 * Within one append, releases run before claims (cqrs_append_events), so an
 * append that both frees and claims may still cross another such append;
 * an email change does both, and only a swap of two emails between two
 * users in two groups at once could meet that.
 */
export function lockOrder(requests: readonly AppendRequest[]): number[] {
  const firstKey = requests.map((request) => {
    const keys = [...(request.claims ?? []), ...(request.releases ?? [])].map(lockKey).sort();
    return keys[0] ?? '';
  });
  return requests.map((_, index) => index).sort((a, b) => (firstKey[a]! < firstKey[b]! ? -1 : firstKey[a]! > firstKey[b]! ? 1 : a - b));
}

/** Claims and releases of one append in lock order (see `lockOrder`). */
export const inLockOrderWithin = (request: AppendRequest): AppendRequest => ({
  ...request,
  ...(request.claims ? { claims: [...request.claims].sort(byLockKey) } : {}),
  ...(request.releases ? { releases: [...request.releases].sort(byLockKey) } : {}),
});

async function appendInOrder(client: PgClient | PgPool, requests: readonly AppendRequest[]): Promise<AppendOutcome[]> {
  const events = requests.flatMap((request) => request.events);
  const releases = requests.flatMap((request) => request.releases ?? []);
  const claims = requests.flatMap((request) => request.claims ?? []);
  const shreds = requests.flatMap((request) => request.shred ?? []);
  const { rows } = await client.query<BatchRow>({
    name: 'cqrs_append_batch',
    text: 'SELECT * FROM cqrs_append_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)',
    values: [
      requests.map((request) => request.streamId),
      requests.map((request) => request.expectedVersion),
      ends(requests.map((request) => request.events.length)),
      events.map((event) => event.type),
      events.map((event) => event.schemaVersion ?? 1),
      events.map((event) => JSON.stringify(event.data)),
      events.map((event) => JSON.stringify(event.metadata)),
      ends(requests.map((request) => request.releases?.length ?? 0)),
      releases.map((unique) => unique.scope),
      releases.map((unique) => unique.value),
      ends(requests.map((request) => request.claims?.length ?? 0)),
      claims.map((unique) => unique.scope),
      claims.map((unique) => unique.value),
      requests.map((request) => request.dataKey?.subject ?? null),
      requests.map((request) => (request.dataKey ? Buffer.from(request.dataKey.wrapped) : null)),
      ends(requests.map((request) => request.shred?.length ?? 0)),
      shreds,
    ],
  });
  const rowsOf = requests.map((): BatchRow[] => []);
  for (const row of rows) rowsOf[row.append_index - 1]!.push(row);
  return requests.map((request, index) => {
    const own = rowsOf[index]!;
    const failed = own.find((row) => row.conflict_code !== null);
    if (!failed) return ok(appendedFrom(request, own));
    const conflict = conflictOf(failed.conflict_code!, failed.conflict_detail ?? undefined, request);
    if (!conflict) throw new Error(`cqrs_append_batch reported an unknown conflict ${failed.conflict_code}`);
    return fail(conflict);
  });
}

export type GroupCommitLimits = Readonly<{
  /**
   * Appends per transaction. Each is a subtransaction, and a backend that has
   * more than 64 open at once makes every other session's snapshots slower.
   */
  maxGroup: number;
  /** Groups committing at once, each on its own pooled connection. */
  maxInFlight: number;
}>;

/**
 * Group commit: appends that arrive while the groups in flight commit wait
 * and then commit together. Nobody hears back before their group's commit
 * returns, so an acknowledged append is as durable as one committed alone;
 * only the round trip and the commit are shared.
 */
export function createGroupCommit(
  commit: (requests: readonly AppendRequest[]) => Promise<readonly SettledAppend[]>,
  limits: GroupCommitLimits,
): (request: AppendRequest) => Promise<AppendOutcome> {
  type Waiting = Readonly<{ request: AppendRequest; settle: (outcome: SettledAppend) => void }>;
  let waiting: Waiting[] = [];
  let inFlight = 0;
  let scheduled = false;

  const send = () => {
    scheduled = false;
    while (waiting.length > 0 && inFlight < limits.maxInFlight) {
      const group = waiting.slice(0, limits.maxGroup);
      waiting = waiting.slice(group.length);
      inFlight += 1;
      commit(group.map((entry) => entry.request))
        .then(
          (outcomes) => group.forEach((entry, i) => entry.settle(outcomes[i]!)),
          (error: unknown) => group.forEach((entry) => entry.settle({ thrown: error })),
        )
        .finally(() => {
          inFlight -= 1;
          schedule();
        });
    }
  };
  // Everything that arrives in the same turn of the event loop joins the next group.
  const schedule = () => {
    if (scheduled || waiting.length === 0 || inFlight >= limits.maxInFlight) return;
    scheduled = true;
    setImmediate(send);
  };

  return (request) =>
    new Promise((resolve, reject) => {
      waiting.push({ request, settle: (outcome) => ('thrown' in outcome ? reject(outcome.thrown) : resolve(outcome)) });
      schedule();
    });
}
