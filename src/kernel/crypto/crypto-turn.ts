/**
 * Runs the work handed to it during one turn of the event loop back to back,
 * at the turn's check phase (setImmediate), and settles each caller's promise
 * with its own result or error.
 *
 * Why: on a busy server an AES-GCM seal costs several times what it costs in
 * a tight loop. Everything else a request does evicts OpenSSL's code and
 * tables from the CPU caches, so each lone seal starts cold (a microbenchmark
 * that touches 32 MB between seals doubles their cost; sealing eight in a
 * row brings it back). The appends of one turn go to the store's group commit
 * together anyway, so sealing them together costs them one more turn of
 * latency and no throughput.
 */
export type CryptoTurn = <T>(work: () => T) => Promise<T>;

export function createCryptoTurn(): CryptoTurn {
  let queued: (() => void)[] = [];
  const runQueued = () => {
    const jobs = queued;
    queued = [];
    for (const job of jobs) job();
  };
  return <T>(work: () => T) =>
    new Promise<T>((resolve, reject) => {
      if (queued.length === 0) setImmediate(runQueued);
      queued.push(() => {
        try {
          resolve(work());
        } catch (error) {
          reject(error);
        }
      });
    });
}
