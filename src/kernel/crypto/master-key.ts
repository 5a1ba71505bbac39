import { createHash, createHmac, createSecretKey, hkdfSync } from 'node:crypto';
import { KEY_BYTES, newKeyBytes, open, seal, secretKey, type SecretKey } from './aead.js';

/**
 * The key that wraps every data key. Kept apart from the data (a file or a
 * setting), so a copy of the store alone opens nothing.
 */
export type MasterKey = Readonly<{
  bytes: Uint8Array;
  /** The same key, ready to seal and open with. */
  secret: SecretKey;
  /** Where it came from, for messages: `MASTER_KEY`, `MASTER_KEY_FILE=/path`, `generated`. Never the key. */
  source: string;
}>;

export function masterKey(bytes: Uint8Array, source: string): MasterKey {
  if (bytes.length !== KEY_BYTES) throw new Error(`${source}: a master key is ${KEY_BYTES} bytes, this one is ${bytes.length}`);
  return { bytes: Uint8Array.from(bytes), secret: secretKey(bytes), source };
}

/** Names a master key in messages without revealing it: the first 8 bytes of its SHA-256, in hex. */
export const keyIdOf = (key: MasterKey): string => createHash('sha256').update(key.bytes).digest('hex').slice(0, 16);

const CHECK_AAD = 'cqrs-graphql master key check';
const CHECK_TEXT = 'cqrs-graphql: this store is sealed under this master key';

/** What the store keeps to tell, before anything is written, whether it is opened with its own master key. */
export const keyCheckOf = (key: MasterKey): Buffer => seal(key.secret, Buffer.from(CHECK_TEXT), CHECK_AAD);

export function opensKeyCheck(key: MasterKey, check: Uint8Array): boolean {
  try {
    return open(key.secret, check, CHECK_AAD).toString('utf8') === CHECK_TEXT;
  } catch {
    return false;
  }
}

const WRAP_AAD = (subject: string) => `data key\0${subject}`;

/**
 * A new data key for a subject, and the key as stored: sealed under the master key, bound to the subject,
 * so a key moved to another row does not open. Wrapped from its bytes before they become a KeyObject:
 * exporting a KeyObject's bytes again costs more (~4 µs) than copying them.
 */
export function newWrappedDataKey(master: MasterKey, subject: string): { key: SecretKey; wrapped: Buffer } {
  const bytes = newKeyBytes();
  try {
    return { key: createSecretKey(bytes), wrapped: seal(master.secret, bytes, WRAP_AAD(subject)) };
  } finally {
    bytes.fill(0);
  }
}
export const unwrapDataKey = (master: MasterKey, subject: string, wrapped: Uint8Array): SecretKey =>
  createSecretKey(open(master.secret, wrapped, WRAP_AAD(subject)));

/** A key for one purpose, derived from the master key (HKDF-SHA256), so no purpose can be turned against another. */
export const derivedKey = (master: MasterKey, purpose: string): SecretKey =>
  secretKey(Buffer.from(hkdfSync('sha256', master.secret, Buffer.alloc(0), `cqrs-graphql ${purpose}`, KEY_BYTES)));

/** A keyed hash, base64url: equal inputs match, and nobody without the master key can test a guess. */
export const keyedHash = (key: SecretKey, text: string): string => createHmac('sha256', key).update(text).digest('base64url');
