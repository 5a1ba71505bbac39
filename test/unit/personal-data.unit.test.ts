import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newDataKey, open, seal } from '../../src/kernel/crypto/aead.js';
import { keyCheckOf, keyIdOf, masterKey, opensKeyCheck, newWrappedDataKey, unwrapDataKey } from '../../src/kernel/crypto/master-key.js';
import type { NewEvent } from '../../src/kernel/event-store.js';
import { LOG_START } from '../../src/kernel/position.js';
import { createPersonalData, SEALED_FIELD, SubjectErased, withPersonalData } from '../../src/kernel/personal-data.js';
import { withSealedSnapshots } from '../../src/kernel/sealed-snapshots.js';
import { createMemoryEventStore } from '../../src/stores/memory/event-store.js';
import { createMemorySnapshotStore } from '../../src/stores/memory/snapshots.js';
import { decodeMasterKey } from '../../src/stores/master-key-source.js';
import { hashCommand } from '../../src/kernel/idempotency.js';

const policy = { fields: { UserCreated: ['username', 'email'], UserUpdated: ['username', 'email'] }, erasedBy: 'UserErased' };
const newKey = (source = 'test') => masterKey(randomBytes(32), source);
const at = { occurredAt: '2026-01-01T00:00:00.000Z' };
const created = (userId: string, username: string, email: string): NewEvent => ({
  type: 'UserCreated',
  data: { userId, username, email, createdBy: null },
  metadata: at,
});

/** One process's sealing store over a raw store shared with others, as instances over one database. */
const processOver = (raw: ReturnType<typeof createMemoryEventStore>, key: ReturnType<typeof newKey>) => withPersonalData(raw, createPersonalData(key, [policy]));
const erasedEvent: NewEvent = { type: 'UserErased', data: { userId: '1' }, metadata: at };

function sealedStore(key = newKey()) {
  const raw = createMemoryEventStore();
  const personal = createPersonalData(key, [policy]);
  return { raw, personal, store: withPersonalData(raw, personal) };
}

describe('AES-256-GCM sealing', () => {
  it('opens only with the same key and associated data, and not after a byte changed', () => {
    const key = newDataKey();
    const sealed = seal(key, Buffer.from('alice@example.com'), 'user-1\0UserCreated');
    expect(open(key, sealed, 'user-1\0UserCreated').toString()).toBe('alice@example.com');
    expect(() => open(key, sealed, 'user-2\0UserCreated')).toThrow();
    expect(() => open(newDataKey(), sealed, 'user-1\0UserCreated')).toThrow();
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1]! ^= 1;
    expect(() => open(key, tampered, 'user-1\0UserCreated')).toThrow();
    // A fresh IV each time: sealing the same value twice gives different bytes.
    expect(seal(key, Buffer.from('x'), 'a').equals(seal(key, Buffer.from('x'), 'a'))).toBe(false);
  });

  it('never hands out an IV twice, across refills of its random pool', () => {
    const key = newDataKey();
    const ivs = new Set(Array.from({ length: 2_000 }, () => seal(key, Buffer.from('x'), 'a').subarray(0, 12).toString('hex')));
    expect(ivs.size).toBe(2_000);
  });

  it('wraps a data key for one subject only, and checks a master key by its check value', () => {
    const master = newKey();
    const { key: dataKey, wrapped } = newWrappedDataKey(master, 'user-1');
    expect(unwrapDataKey(master, 'user-1', wrapped).equals(dataKey)).toBe(true);
    expect(() => unwrapDataKey(master, 'user-2', wrapped)).toThrow();
    expect(() => unwrapDataKey(newKey(), 'user-1', wrapped)).toThrow();
    const check = keyCheckOf(master);
    expect(opensKeyCheck(master, check)).toBe(true);
    expect(opensKeyCheck(newKey(), check)).toBe(false);
    expect(keyIdOf(master)).toMatch(/^[0-9a-f]{16}$/);
    expect(keyIdOf(master)).not.toBe(keyIdOf(newKey()));
  });

  it('reads a master key as raw bytes or base64, and refuses any other length', () => {
    const bytes = randomBytes(32);
    expect(Buffer.from(decodeMasterKey(bytes, 'raw').bytes).equals(bytes)).toBe(true);
    expect(Buffer.from(decodeMasterKey(Buffer.from(`${bytes.toString('base64')}\n`), 'text').bytes).equals(bytes)).toBe(true);
    expect(() => decodeMasterKey(Buffer.from('c2hvcnQ='), 'MASTER_KEY_FILE=/k')).toThrow(/MASTER_KEY_FILE=\/k: a master key is 32 random bytes/);
  });
});

describe('keyed request hashes', () => {
  it('depend on the key, and stay equal for equal commands', () => {
    const command = { type: 'CreateUser', data: { username: 'a', email: 'e@x.org' } };
    const key = createPersonalData(newKey(), [policy]).requestHashKey;
    expect(hashCommand(command, key)).toBe(hashCommand({ type: 'CreateUser', data: { email: 'e@x.org', username: 'a' } }, key));
    expect(hashCommand(command, key)).not.toBe(hashCommand(command));
    expect(hashCommand(command, key)).not.toBe(hashCommand(command, createPersonalData(newKey(), [policy]).requestHashKey));
  });
});

describe('withPersonalData', () => {
  it('stores declared fields sealed in one field, leaves the rest, and reads them back', async () => {
    const { raw, store } = sealedStore();
    const appended = await store.append({ streamId: 'user-1', expectedVersion: 0, events: [created('1', 'alice', 'alice@example.com')] });
    expect(appended.ok && appended.value.events[0]!.data).toEqual({ userId: '1', username: 'alice', email: 'alice@example.com', createdBy: null });
    const [stored] = (await raw.readStream('user-1')).events;
    expect(Object.keys(stored!.data).sort()).toEqual([SEALED_FIELD, 'createdBy', 'userId']);
    expect(JSON.stringify(stored)).not.toMatch(/alice/);
    const plain = { userId: '1', username: 'alice', email: 'alice@example.com', createdBy: null };
    expect((await store.readStream('user-1')).events[0]!.data).toEqual(plain);
    expect((await store.readAll({ after: LOG_START, limit: 10 }))[0]!.data).toEqual(plain);
    expect((await store.readPage({ direction: 'backward', limit: 10 }))[0]!.data).toEqual(plain);
    expect((await store.readStreamFrom('user-1', { fromVersion: 1, limit: 10 }))[0]!.data).toEqual(plain);
  });

  it('seals only the fields an event carries, and passes undeclared events and plaintext from older stores through', async () => {
    const { raw, store } = sealedStore();
    await store.append({ streamId: 'user-1', expectedVersion: 0, events: [created('1', 'alice', 'a@x.org')] });
    await store.append({ streamId: 'user-1', expectedVersion: 1, events: [{ type: 'UserUpdated', data: { userId: '1', email: 'b@x.org' }, metadata: at }] });
    await store.append({ streamId: 'tally-1', expectedVersion: 0, events: [{ type: 'Counted', data: { email: 'not declared' }, metadata: at }] });
    // Written before sealing existed: straight into the raw store.
    await raw.append({ streamId: 'user-old', expectedVersion: 0, events: [created('old', 'olga', 'olga@x.org')] });
    const events = await store.readAll({ after: LOG_START, limit: 10 });
    expect(events.map((event) => event.data)).toEqual([
      { userId: '1', username: 'alice', email: 'a@x.org', createdBy: null },
      { userId: '1', email: 'b@x.org' },
      { email: 'not declared' },
      { userId: 'old', username: 'olga', email: 'olga@x.org', createdBy: null },
    ]);
    expect((await raw.readAll({ after: LOG_START, limit: 10 }))[2]!.data).toEqual({ email: 'not declared' });
    expect(await raw.readDataKeys(['tally-1'])).toEqual(new Map());
  });

  it('reads every declared field as null once the erasing event destroyed the key, and then refuses to seal', async () => {
    const { raw, store } = sealedStore();
    await store.append({ streamId: 'user-1', expectedVersion: 0, events: [created('1', 'alice', 'a@x.org')] });
    await store.append({ streamId: 'user-2', expectedVersion: 0, events: [created('2', 'bob', 'b@x.org')] });
    await store.append({ streamId: 'user-1', expectedVersion: 1, events: [{ type: 'UserUpdated', data: { userId: '1', username: 'al' }, metadata: at }] });
    expect((await store.append({ streamId: 'user-1', expectedVersion: 2, events: [erasedEvent] })).ok).toBe(true);
    expect(await raw.readDataKeys(['user-1'])).toEqual(new Map([['user-1', 'destroyed']]));
    const events = await store.readAll({ after: LOG_START, limit: 10 });
    expect(events.map((event) => event.data)).toEqual([
      { userId: '1', username: null, email: null, createdBy: null },
      { userId: '2', username: 'bob', email: 'b@x.org', createdBy: null },
      { userId: '1', username: null, email: null },
      { userId: '1' },
    ]);
    await expect(
      store.append({ streamId: 'user-1', expectedVersion: 3, events: [{ type: 'UserUpdated', data: { userId: '1', email: 'c@x.org' }, metadata: at }] }),
    ).rejects.toThrow(SubjectErased);
  });

  it('claims and releases keyed hashes, and reports a taken value as the caller wrote it', async () => {
    const { raw, store, personal } = sealedStore();
    const claim = { scope: 'user-email', value: 'alice@example.com' };
    await store.append({ streamId: 'user-1', expectedVersion: 0, events: [created('1', 'alice', 'alice@example.com')], claims: [claim] });
    const taken = await store.append({ streamId: 'user-2', expectedVersion: 0, events: [created('2', 'al', 'alice@example.com')], claims: [claim] });
    expect(taken).toEqual({ ok: false, error: { type: 'UniqueValueTaken', scope: 'user-email', value: 'alice@example.com', ownerStreamId: 'user-1' } });
    // The raw store holds only the hash: a raw claim of the plain value is free.
    expect((await raw.append({ streamId: 'probe', expectedVersion: 0, events: [created('p', 'p', 'p')], claims: [claim] })).ok).toBe(true);
    const hashed = personal.hashUnique(claim);
    expect(hashed.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createPersonalData(newKey(), [policy]).hashUnique(claim).value).not.toBe(hashed.value);
    // Released by its plain value through the wrapper, the address is free again.
    await store.append({ streamId: 'user-1', expectedVersion: 1, events: [{ type: 'UserUpdated', data: { userId: '1', email: 'new@x.org' }, metadata: at }], releases: [claim] });
    expect((await store.append({ streamId: 'user-2', expectedVersion: 0, events: [created('2', 'al', 'alice@example.com')], claims: [claim] })).ok).toBe(true);
  });

  it('never caches a new key whose append lost, so a retry seals under the key that was stored', async () => {
    const { raw, store } = sealedStore();
    const racing = await Promise.all([
      store.append({ streamId: 'user-1', expectedVersion: 0, events: [created('1', 'first', 'f@x.org')] }),
      store.append({ streamId: 'user-1', expectedVersion: 0, events: [created('1', 'second', 's@x.org')] }),
    ]);
    expect(racing.map((result) => result.ok)).toEqual([true, false]);
    await store.append({ streamId: 'user-1', expectedVersion: 1, events: [{ type: 'UserUpdated', data: { userId: '1', username: 'third' }, metadata: at }] });
    expect((await store.readStream('user-1')).events.map((event) => (event.data as { username: string }).username)).toEqual(['first', 'third']);
    expect((await raw.readDataKeys(['user-1'])).size).toBe(1);
  });

  it('sees an erasure made through another wrapper of the same store at once', async () => {
    const key = newKey();
    const raw = createMemoryEventStore();
    const a = processOver(raw, key);
    const b = processOver(raw, key);
    await a.append({ streamId: 'user-1', expectedVersion: 0, events: [created('1', 'alice', 'a@x.org')] });
    expect((await b.readStream('user-1')).events[0]!.data).toMatchObject({ email: 'a@x.org' });
    await a.append({ streamId: 'user-1', expectedVersion: 1, events: [erasedEvent] });
    expect((await b.readStream('user-1')).events[0]!.data).toMatchObject({ email: null, username: null });
  });

  describe('events this process appended, read back without decrypting them', () => {
    it('reads exactly what a process that must decrypt them reads', async () => {
      const key = newKey();
      const raw = createMemoryEventStore();
      const writer = processOver(raw, key);
      await writer.append({ streamId: 'user-1', expectedVersion: 0, events: [created('1', 'alice', 'a@x.org')] });
      // A field set to undefined is not stored: the remembered data must not carry it either.
      const update: NewEvent = { type: 'UserUpdated', data: { userId: '1', username: 'al', email: undefined }, metadata: at };
      await writer.append({ streamId: 'user-1', expectedVersion: 1, events: [update] });
      const reader = processOver(raw, key);
      const decrypted = await reader.readAll({ after: LOG_START, limit: 10 });
      expect(decrypted.map((event) => event.data)).toStrictEqual([
        { userId: '1', username: 'alice', email: 'a@x.org', createdBy: null },
        { userId: '1', username: 'al' },
      ]);
      expect(await writer.readAll({ after: LOG_START, limit: 10 })).toStrictEqual(decrypted);
      expect(await writer.readPage({ direction: 'backward', limit: 10 })).toStrictEqual([...decrypted].reverse());
      expect((await writer.readStream('user-1')).events).toStrictEqual(decrypted);
    });

    it('reads them as null once another process erased the subject', async () => {
      const key = newKey();
      const raw = createMemoryEventStore();
      const writer = processOver(raw, key);
      const eraser = processOver(raw, key);
      await writer.append({ streamId: 'user-1', expectedVersion: 0, events: [created('1', 'alice', 'a@x.org')] });
      await writer.append({ streamId: 'user-2', expectedVersion: 0, events: [created('2', 'bob', 'b@x.org')] });
      await eraser.append({ streamId: 'user-1', expectedVersion: 1, events: [erasedEvent] });
      const events = await writer.readAll({ after: LOG_START, limit: 10 });
      expect(events.map((event) => event.data)).toStrictEqual([
        { userId: '1', username: null, email: null, createdBy: null },
        { userId: '2', username: 'bob', email: 'b@x.org', createdBy: null },
        { userId: '1' },
      ]);
    });
  });

  describe('a command that reads its stream, then appends', () => {
    const updated = (username: string): NewEvent => ({ type: 'UserUpdated', data: { userId: '1', username }, metadata: at });
    /** Another process over the same store: its caches know nothing yet, and it counts its key reads. */
    function otherProcess(raw: ReturnType<typeof createMemoryEventStore>, key: ReturnType<typeof newKey>) {
      let keyReads = 0;
      const counted = { ...raw, readDataKeys: (subjects: readonly string[]) => ((keyReads += 1), raw.readDataKeys(subjects)) };
      return { store: withPersonalData(counted, createPersonalData(key, [policy])), keyReads: () => keyReads };
    }

    it('reads the stream’s key once, for the read and the append after it', async () => {
      const key = newKey();
      const raw = createMemoryEventStore();
      await processOver(raw, key).append({ streamId: 'user-1', expectedVersion: 0, events: [created('1', 'alice', 'a@x.org')] });
      const other = otherProcess(raw, key);
      const { version } = await other.store.readStream('user-1');
      expect(other.keyReads()).toBe(1);
      expect((await other.store.append({ streamId: 'user-1', expectedVersion: version, events: [updated('alicia')] })).ok).toBe(true);
      expect(other.keyReads()).toBe(1);
      const events = await other.store.readStreamFrom('user-1', { fromVersion: 1, limit: 10 });
      expect(events.map((event) => (event.data as { username: string }).username)).toEqual(['alice', 'alicia']);
    });

    it('reads the key again for an append expecting another version than the one read, or after a read that stopped short of the end', async () => {
      const key = newKey();
      const raw = createMemoryEventStore();
      const first = processOver(raw, key);
      await first.append({ streamId: 'user-1', expectedVersion: 0, events: [created('1', 'alice', 'a@x.org'), updated('b'), updated('c')] });
      const other = otherProcess(raw, key);
      await other.store.readStreamFrom('user-1', { fromVersion: 1, limit: 2 });
      expect(other.keyReads()).toBe(1);
      expect((await other.store.append({ streamId: 'user-1', expectedVersion: 3, events: [updated('d')] })).ok).toBe(true);
      expect(other.keyReads()).toBe(2);
    });

    it('never seals under a key an erasure destroyed after the read: the append fails its version check', async () => {
      const key = newKey();
      const raw = createMemoryEventStore();
      const eraser = processOver(raw, key);
      await eraser.append({ streamId: 'user-1', expectedVersion: 0, events: [created('1', 'alice', 'a@x.org')] });
      const other = otherProcess(raw, key);
      const { version } = await other.store.readStream('user-1');
      expect((await eraser.append({ streamId: 'user-1', expectedVersion: 1, events: [erasedEvent] })).ok).toBe(true);
      const late = await other.store.append({ streamId: 'user-1', expectedVersion: version, events: [updated('after erasure')] });
      expect(late).toMatchObject({ ok: false, error: { type: 'StreamVersionConflict', expectedVersion: 1, actualVersion: 2 } });
      expect((await raw.readStream('user-1')).events.map((event) => event.type)).toEqual(['UserCreated', 'UserErased']);
    });
  });

  it('seals snapshots of keyed streams, and reads them as missing once the key is destroyed', async () => {
    const { raw, store, personal } = sealedStore();
    const inner = createMemorySnapshotStore();
    const snapshots = withSealedSnapshots(inner, raw, personal);
    await store.append({ streamId: 'user-1', expectedVersion: 0, events: [created('1', 'alice', 'a@x.org')] });
    const snapshot = { streamId: 'user-1', fold: 'user@1', version: 1, position: LOG_START, time: at.occurredAt, state: { email: 'a@x.org' } };
    await snapshots.saveSnapshots([snapshot, { ...snapshot, streamId: 'tally-1', state: { n: 1 } }]);
    expect(JSON.stringify(await inner.loadSnapshot('user-1', 'user@1'))).not.toMatch(/a@x\.org/);
    expect(await snapshots.loadSnapshot('user-1', 'user@1')).toEqual(snapshot);
    expect((await inner.loadSnapshot('tally-1', 'user@1'))?.state).toEqual({ n: 1 });
    await store.append({ streamId: 'user-1', expectedVersion: 1, events: [erasedEvent] });
    expect(await snapshots.loadSnapshot('user-1', 'user@1')).toBeNull();
    await snapshots.saveSnapshots([{ ...snapshot, version: 2 }]);
    expect((await inner.loadSnapshot('user-1', 'user@1'))?.version).toBe(1);
  });
});
