import { masterKey } from '../../src/kernel/crypto/master-key.js';

/** The fixed master key tests give PostgreSQL stores (which have no default), as MASTER_KEY or in StorageOptions. */
export const TEST_MASTER_KEY_BASE64 = Buffer.alloc(32, 7).toString('base64');
export const testMasterKey = masterKey(Buffer.from(TEST_MASTER_KEY_BASE64, 'base64'), 'the tests\' fixed key');
