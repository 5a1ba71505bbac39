import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';

export type NotificationListener = Readonly<{ close: () => Promise<void> }>;

/**
 * One dedicated connection LISTENing on `channels`. Notifications are only
 * wake-ups (readers go back to the tables), so after a lost connection it
 * reconnects with backoff and wakes everyone once, in case it missed one.
 */
export async function createNotificationListener(
  connectionString: string,
  channels: readonly string[],
  onNotification: (channel: string) => void,
): Promise<NotificationListener> {
  let closed = false;
  let client: pg.Client | undefined;

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString });
    next.on('notification', (message) => onNotification(message.channel));
    next.on('error', () => {
      if (client === next) void reconnect();
    });
    await next.connect();
    for (const channel of channels) await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    client = next;
  };

  let reconnecting: Promise<void> | undefined;
  const reconnect = () =>
    (reconnecting ??= (async () => {
      const broken = client;
      client = undefined;
      await broken?.end().catch(() => {});
      for (let attempt = 0; !closed; attempt++) {
        try {
          await connect();
          for (const channel of channels) onNotification(channel);
          break;
        } catch {
          await delay(Math.min(5000, 100 * 2 ** attempt));
        }
      }
      reconnecting = undefined;
    })());

  await connect();
  return {
    close: async () => {
      closed = true;
      await client?.end().catch(() => {});
    },
  };
}
