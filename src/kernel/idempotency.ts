import { createHash, createHmac } from 'node:crypto';
import type { CommandMiddleware, CommandOutcome, IdempotencyKeyTaken, StreamUnreadable } from './command-bus.js';
import type { IdempotencyRecord, IdempotencyRecords } from './event-store.js';
import type { Command } from './messages.js';
import type { SecretKey } from './crypto/aead.js';

/**
 * Repeating a command under the same idempotency key returns the first
 * outcome and appends nothing. Successful appends store their record inside
 * the append transaction (see `handleCommand`); every other outcome is stored
 * here. Runs after validation, so equivalent inputs (" bob" and "bob") hash alike.
 *
 * With `hashKey` (derived from the master key) the stored request hash is
 * keyed, so a record cannot be tested against a guessed email; records
 * hashed without a key (before it, or by an instance not yet upgraded) still match.
 */
export function idempotency(store: IdempotencyRecords, hashKey?: SecretKey): CommandMiddleware {
  return async (envelope, _registration, next) => {
    const key = envelope.metadata.idempotencyKey;
    if (key === undefined) return next(envelope);
    if (!IDEMPOTENCY_KEY.test(key)) return invalidKey();
    const requestHash = hashCommand(envelope.command, hashKey);
    const sameRequest = (record: IdempotencyRecord) =>
      record.requestHash === requestHash || (hashKey !== undefined && record.requestHash === hashCommand(envelope.command));
    const replay = (record: IdempotencyRecord): CommandOutcome => (sameRequest(record) ? (record.outcome as CommandOutcome) : keyReused());

    const existing = await store.getIdempotencyRecord(key);
    if (existing) return replay(existing);

    const outcome = await next({ ...envelope, metadata: { ...envelope.metadata, idempotencyRequestHash: requestHash } });
    if (!outcome.ok && outcome.error.type === IDEMPOTENCY_KEY_TAKEN) {
      // A concurrent twin appended first under this key; its record is the answer.
      const winner = await store.getIdempotencyRecord(key);
      if (!winner) throw new Error(`Idempotency record "${key}" vanished after a key conflict`);
      return replay(winner);
    }
    if (outcome.ok && outcome.value.changed) return outcome; // recorded by the append itself
    // Not the command's answer but the server's state: once the event can be read, the same key decides it.
    if (!outcome.ok && outcome.error.type === STREAM_UNREADABLE) return outcome;
    return replay(await store.saveIdempotencyRecord({ key, requestHash, outcome }));
  };
}

const STREAM_UNREADABLE: StreamUnreadable['type'] = 'StreamUnreadable';

/** Rejection a handler returns when the append lost a race on the idempotency key. */
export const IDEMPOTENCY_KEY_TAKEN: IdempotencyKeyTaken['type'] = 'IdempotencyKeyTaken';

/** Printable ASCII, so keys are safe to log and store, and bounded so they cannot bloat every event's metadata. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function keyRejected(message: string, field: string): CommandOutcome {
  return { ok: false, error: { type: 'ValidationError', message, fields: [{ field: 'idempotencyKey', message: field }] } };
}

const invalidKey = () =>
  keyRejected('The idempotency key is not valid', 'must be 1-255 printable ASCII characters without spaces');
const keyReused = () =>
  keyRejected('The idempotency key was already used with different input', 'already used with different input');

export function hashCommand(command: Command, key?: SecretKey): string {
  const text = canonicalJson({ type: command.type, data: command.data });
  return (key ? createHmac('sha256', key) : createHash('sha256')).update(text).digest('base64url');
}

/** JSON with object keys sorted, so equal data always hashes equally. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
