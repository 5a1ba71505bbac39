import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';

export type NotificationListener = Readonly<{
  /**
   * LISTENs on `channel` and calls `onNotification` with each notification's
   * payload, and once with `undefined` after every reconnect, in case one
   * was missed (what was sent meanwhile is unknown). Returns a function that
   * stops the calls.
   */
  listen: (channel: string, onNotification: (payload: string | undefined) => void) => Promise<() => void>;
  close: () => Promise<void>;
}>;

/**
 * One dedicated connection LISTENing for everything an instance waits on.
 * One, not one per channel: before version 19 PostgreSQL wakes every
 * listening session of the database at each NOTIFY, whatever its channels
 * (async.c keeps no map of who listens on what). Notifications are only
 * wake-ups (readers go back to the tables), so after a lost connection it
 * reconnects with backoff and wakes everyone once.
 */
export async function createNotificationListener(connectionString: string): Promise<NotificationListener> {
  let closed = false;
  let client: pg.Client | undefined;
  const handlers = new Map<string, Set<(payload: string | undefined) => void>>();
  const dispatch = (channel: string, payload: string | undefined) => {
    for (const handler of handlers.get(channel) ?? []) handler(payload);
  };
  const listenOn = (connection: pg.Client, channel: string) => connection.query(`LISTEN ${pg.escapeIdentifier(channel)}`);

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString });
    next.on('notification', (message) => dispatch(message.channel, message.payload ?? ''));
    next.on('error', () => {
      if (client === next) void reconnect();
    });
    await next.connect();
    for (const channel of handlers.keys()) await listenOn(next, channel);
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
          for (const channel of handlers.keys()) dispatch(channel, undefined);
          break;
        } catch {
          await delay(Math.min(5000, 100 * 2 ** attempt));
        }
      }
      reconnecting = undefined;
    })());

  await connect();
  return {
    listen: async (channel, onNotification) => {
      let channelHandlers = handlers.get(channel);
      if (!channelHandlers) {
        handlers.set(channel, (channelHandlers = new Set()));
        // While reconnecting there is no client: connect() LISTENs on every known channel.
        if (client) await listenOn(client, channel);
      }
      // Wrapped, so listening twice with the same function gives two independent subscriptions.
      const own = (payload: string | undefined) => onNotification(payload);
      channelHandlers.add(own);
      return () => void channelHandlers.delete(own);
    },
    close: async () => {
      closed = true;
      await client?.end().catch(() => {});
    },
  };
}
