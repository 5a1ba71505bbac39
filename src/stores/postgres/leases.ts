import type { Lease, Leases } from '../../kernel/leases.js';
import { LOCK_NAMESPACE, type PgPool } from './database.js';

/**
 * Leases are session-level advisory locks, each held on its own pooled
 * connection: when the process dies, PostgreSQL ends the session and frees
 * the lock, and another instance's next bid takes it over.
 */
const HEARTBEAT_MS = 1000;

export function createPostgresLeases(pool: PgPool): Leases {
  return {
    tryAcquire: async (name) => {
      const client = await pool.connect();
      let acquired = false;
      try {
        const { rows } = await client.query<{ acquired: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS acquired', [
          LOCK_NAMESPACE,
          `lease:${name}`,
        ]);
        acquired = rows[0]?.acquired === true;
      } finally {
        if (!acquired) client.release();
      }
      if (!acquired) return null;
      const lost = new AbortController();
      client.on('error', () => lost.abort());
      // An idle connection whose session was ended (server restart, pg_terminate_backend, a
      // network cut) only says so when used: ask it regularly, and give up the lease at once.
      const heartbeat = setInterval(() => {
        client.query('SELECT 1').catch(() => lost.abort());
      }, HEARTBEAT_MS);
      heartbeat.unref();
      lost.signal.addEventListener('abort', () => clearInterval(heartbeat), { once: true });
      const lease: Lease = {
        lost: lost.signal,
        release: async () => {
          if (lost.signal.aborted) {
            client.release(true);
            return;
          }
          lost.abort();
          try {
            await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_NAMESPACE, `lease:${name}`]);
            client.release();
          } catch (error) {
            client.release(true);
            throw error;
          }
        },
      };
      return lease;
    },
  };
}
