import { chmodSync, existsSync, openSync, readFileSync, writeSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { KEY_BYTES } from '../kernel/crypto/aead.js';
import { keyIdOf, masterKey, type MasterKey } from '../kernel/crypto/master-key.js';
import { StartupRefusal } from '../startup-refusal.js';

/** Where the master key comes from, as the settings name it (src/server/config.ts). */
export type MasterKeySetting = Readonly<{ base64?: string | undefined; file?: string | undefined }>;

/** 32 bytes: raw, or as base64 text (with or without a trailing newline). */
export function decodeMasterKey(bytes: Buffer, source: string): MasterKey {
  if (bytes.length === KEY_BYTES) return masterKey(bytes, source);
  const decoded = Buffer.from(bytes.toString('utf8').trim(), 'base64');
  if (decoded.length !== KEY_BYTES) {
    throw new StartupRefusal(`${source}: a master key is ${KEY_BYTES} random bytes, raw or in base64 (\`openssl rand -base64 32\`)`);
  }
  return masterKey(decoded, source);
}

/** The key the settings name, or undefined when they name none. */
export function masterKeyOf(setting: MasterKeySetting): MasterKey | undefined {
  if (setting.base64 !== undefined) return decodeMasterKey(Buffer.from(setting.base64, 'utf8'), 'MASTER_KEY');
  if (setting.file === undefined) return undefined;
  const source = `MASTER_KEY_FILE=${resolve(setting.file)}`;
  let bytes: Buffer;
  try {
    bytes = readFileSync(setting.file);
  } catch (error) {
    throw new StartupRefusal(`${source} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return decodeMasterKey(bytes, source);
}

export const DEFAULT_KEY_FILE = 'master.key';

/**
 * The embedded store's default: `DATA_DIR/master.key`, generated (mode 0600)
 * on first start. Beside the data it protects nothing against a copy of the
 * directory; it is there so erasure works out of the box, and the warning
 * says to keep a copy apart.
 */
export function defaultSqliteMasterKey(dataDir: string, warn: (message: string) => void): MasterKey {
  const path = join(dataDir, DEFAULT_KEY_FILE);
  if (existsSync(path)) return decodeMasterKey(readFileSync(path), `${resolve(path)} (the default when MASTER_KEY and MASTER_KEY_FILE are unset)`);
  const key = masterKey(randomBytes(KEY_BYTES), `${resolve(path)} (generated)`);
  // 'wx': never overwrite a key another process just wrote.
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, `${Buffer.from(key.bytes).toString('base64')}\n`);
  } finally {
    closeSync(fd);
  }
  chmodSync(path, 0o600);
  warn(
    `WARNING: generated a master key at ${resolve(path)} (id ${keyIdOf(key)}). Back it up APART from the data: ` +
      'without it nothing personal in this store can be read, and a backup holding both undoes erasure. ' +
      'Set MASTER_KEY_FILE to keep it elsewhere.',
  );
  return key;
}
