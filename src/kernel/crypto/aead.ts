import { createCipheriv, createDecipheriv, createSecretKey, randomFillSync, type KeyObject } from 'node:crypto';

/** AES-256-GCM: what every sealed thing in the store is (data keys, personal fields, snapshot states, the key check). */
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

/**
 * Keys are KeyObjects, made once: on Node 24, `createCipheriv` and
 * `createHmac` given raw bytes spend longer checking them (about 13 µs) than
 * sealing a small event takes.
 */
export type SecretKey = KeyObject;

export const secretKey = (bytes: Uint8Array): SecretKey => {
  if (bytes.length !== KEY_BYTES) throw new Error(`a key is ${KEY_BYTES} bytes, this one is ${bytes.length}`);
  return createSecretKey(bytes);
};

// One `randomBytes` call costs about 4 µs (20 under load), whatever its size; IVs and data keys are
// taken from a random pool instead. Each is still fresh CSPRNG output, handed out once: the bytes
// given out are zeroed in the pool, which is refilled, never reused.
const POOL_BYTES = 8192;
const pool = Buffer.alloc(POOL_BYTES);
let poolOffset = POOL_BYTES;

function randomInto(into: Buffer): void {
  if (poolOffset + into.length > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  pool.copy(into, 0, poolOffset, poolOffset + into.length);
  pool.fill(0, poolOffset, poolOffset + into.length);
  poolOffset += into.length;
}

/** `iv | tag | ciphertext`, bound to `aad`: opening it with other associated data fails. */
export function seal(key: SecretKey, plaintext: Uint8Array, aad: string): Buffer {
  const sealed = Buffer.allocUnsafe(IV_BYTES + TAG_BYTES + plaintext.length);
  const iv = sealed.subarray(0, IV_BYTES);
  randomInto(iv);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  // GCM is a stream cipher: the ciphertext is exactly as long as the plaintext.
  const body = cipher.update(plaintext);
  const tail = cipher.final();
  body.copy(sealed, IV_BYTES + TAG_BYTES);
  tail.copy(sealed, IV_BYTES + TAG_BYTES + body.length);
  cipher.getAuthTag().copy(sealed, IV_BYTES);
  return sealed;
}

/** The plaintext `seal` was given; throws when the key, the associated data or a byte is wrong. */
export function open(key: SecretKey, sealed: Uint8Array, aad: string): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error('sealed value too short');
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
}

export function newDataKey(): SecretKey {
  const bytes = newKeyBytes();
  const key = createSecretKey(bytes);
  bytes.fill(0);
  return key;
}

/** Fresh key bytes, for a caller that needs them as bytes too (to wrap them) and zeroes them after. */
export function newKeyBytes(): Buffer {
  const bytes = Buffer.alloc(KEY_BYTES);
  randomInto(bytes);
  return bytes;
}
