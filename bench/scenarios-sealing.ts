import { cpSync } from 'node:fs';
import type { BenchConfig } from './config.js';
import type { LoadGenerator } from './load.js';
import { fineSchedule, pairedRows } from './paired.js';
import type { Results } from './results.js';
import { againstBaseline, speedRow, throughput } from './scenarios.js';
import { startServer } from './servers.js';

/** Issue 21's cost line: mutations with personal fields sealed stay within 10% of the same build sealing nothing. */
const WITHIN = 0.9;

/**
 * Scenario 12: what sealing personal fields costs the mutations. Our
 * server as shipped, and the same build with nothing declared personal
 * (bench/unsealed-modules.ts: no data key read or made, nothing encrypted
 * or decrypted for the events it appends), each on its own copy of the
 * data, run beside the baseline in rotating order, and are compared by
 * paired runs. A same-run comparison is the only one this machine can
 * answer to 10%: the ratio to the baseline alone moves more than that
 * between sessions.
 */
export async function sealingCost(config: BenchConfig, load: LoadGenerator, small: string, results: Results, log: (text: string) => void): Promise<void> {
  log('scenario 12: sealing cost (personal fields sealed, and nothing sealed)');
  const plainDir = `${small}-unsealed`;
  const sealedDir = `${small}-sealed`;
  cpSync(small, plainDir, { recursive: true });
  cpSync(small, sealedDir, { recursive: true });
  const sealed = await startServer('ours', { dataDir: sealedDir });
  const plain = await startServer('ours', { dataDir: plainDir, unsealed: true });
  const baseline = await startServer('baseline', { env: { SEED_USERS: String(config.smallUsers) } });
  try {
    for (const op of ['createUser', 'updateUser'] as const) {
      const measured = await throughput(config, load, [sealed, plain, baseline], op, config.smallUsers, results, fineSchedule(config));
      results.rows.push(speedRow('12 sealing', `${op}, sealed`, againstBaseline(measured, sealed, baseline)));
      results.rows.push(speedRow('12 sealing', `${op}, nothing sealed`, againstBaseline(measured, plain, baseline)));
      const pairing = { scenario: '12 sealing', metric: op, label: 'sealed', against: 'nothing sealed', atLeast: WITHIN };
      results.rows.push(...pairedRows(pairing, measured.get(sealed)!, measured.get(plain)!));
    }
  } finally {
    await Promise.all([sealed.stop(), plain.stop(), baseline.stop()]);
  }
}
