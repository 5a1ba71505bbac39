/**
 * The floor under scenario 5: what plain websocket fan-out costs on this
 * machine, with no GraphQL, no graphql-ws and no event store.
 *   npm run bench:ws-floor [-- --subscribers N --rate EVENTS_PER_S --seconds S]
 *
 * A `ws` server process sends every subscriber the same pre-serialised
 * graphql-ws-shaped `next` message (~300 bytes) `rate` times a second, with
 * each socket corked for the turn as our adapter does; a second process
 * holds the subscribers, parses every message and measures its delay from
 * the send time inside it. Whatever our server spends above these figures is
 * GraphQL and protocol work; whatever this floor cannot reach, no server on
 * this machine can.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { WebSocket, WebSocketServer } from 'ws';

type Command =
  | { type: 'serve' }
  | { type: 'connect'; url: string; count: number }
  | { type: 'broadcast'; rate: number; seconds: number }
  | { type: 'report' };

export type FloorOptions = Readonly<{ subscribers: number; rate: number; seconds: number }>;
export type FloorResult = Readonly<{
  sent: number;
  seconds: number;
  messages: number;
  received: number;
  p50: number;
  p99: number;
  serverCpuSeconds: number;
  clientsCpuSeconds: number;
  /** Server CPU time per message sent, in µs: the figure scenario 5 divides ours by. */
  serverMicrosPerMessage: number;
}>;

const SELF = new URL(import.meta.url).pathname;
// Imported by the bench (bench/scenarios-fanout.ts), this file only lends `measureWsFloor`.
if (process.argv[1] === SELF) {
  const role = process.argv[2];
  if (role === 'server') serverRole();
  else if (role === 'clients') clientsRole();
  else await main();
}

function serverRole() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const sockets = new Set<WebSocket>();
  wss.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  wss.on('listening', () => process.send!({ type: 'listening', port: (wss.address() as { port: number }).port }));
  process.on('message', (command: Command) => {
    if (command.type !== 'broadcast') return;
    const started = performance.now();
    let sent = 0;
    const intervalMs = 1000 / command.rate;
    // Catch up from the clock rather than trusting the timer: the rate achieved is the rate asked, or the server is saturated.
    const tick = () => {
      const due = Math.floor((performance.now() - started) / intervalMs);
      for (; sent < due && sent < command.rate * command.seconds; sent++) {
        const message = JSON.stringify({
          id: '1',
          type: 'next',
          payload: { data: { userEvents: { __typename: 'UserCreated', position: `sqlite:${sent + 1}`, userId: `u${sent}`, version: 1, username: `user${sent}`, email: null, occurredAt: new Date().toISOString(), sentAt: Date.now() } } },
        });
        for (const socket of sockets) {
          const raw = (socket as unknown as { _socket: import('node:net').Socket })._socket;
          if (raw.writableCorked === 0) {
            raw.cork();
            setImmediate(() => raw.uncork());
          }
          socket.send(message);
        }
      }
      if (sent < command.rate * command.seconds) setTimeout(tick, Math.max(0, intervalMs / 2));
      else process.send!({ type: 'done', sent, seconds: (performance.now() - started) / 1000 });
    };
    tick();
  });
}

function clientsRole() {
  const delays: number[] = [];
  let received = 0;
  process.on('message', async (command: Command) => {
    if (command.type === 'connect') {
      await Promise.all(
        Array.from({ length: command.count }, () => new Promise<void>((resolve, reject) => {
          const socket = new WebSocket(command.url);
          socket.on('open', () => resolve());
          socket.on('error', reject);
          socket.on('message', (data) => {
            const message = JSON.parse(String(data)) as { payload: { data: { userEvents: { sentAt: number } } } };
            received += 1;
            delays.push(Date.now() - message.payload.data.userEvents.sentAt);
          });
        })),
      );
      process.send!({ type: 'connected' });
    } else if (command.type === 'report') {
      delays.sort((a, b) => a - b);
      const at = (p: number) => delays[Math.min(delays.length - 1, Math.floor((p / 100) * delays.length))] ?? NaN;
      process.send!({ type: 'report', received, p50: at(50), p99: at(99) });
    }
  });
}

async function main() {
  const { values } = parseArgs({
    options: {
      subscribers: { type: 'string', default: '1000' },
      rate: { type: 'string', default: '200' },
      seconds: { type: 'string', default: '5' },
    },
  });
  const subscribers = Number(values.subscribers);
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  const result = await measureWsFloor({ subscribers, rate, seconds });
  process.stdout.write(
    [
      `machine: ${cpus().length} CPUs (${cpus()[0]?.model.trim()}), Node ${process.version}`,
      `${subscribers} subscribers, ${rate} events/s asked for ${seconds} s: ${(result.sent / result.seconds).toFixed(0)} events/s sent`,
      `messages: ${result.received} of ${result.messages} received; delay p50 ${result.p50} ms, p99 ${result.p99} ms`,
      `server CPU ${((result.serverCpuSeconds / result.seconds) * 100).toFixed(0)}% of a core, ${result.serverMicrosPerMessage.toFixed(1)} µs per message`,
      `subscribers' CPU ${((result.clientsCpuSeconds / result.seconds) * 100).toFixed(0)}% of a core, ${((result.clientsCpuSeconds / result.messages) * 1e6).toFixed(1)} µs per message`,
    ].join('\n') + '\n',
  );
}

/** Runs the floor: a `ws` server process and a subscribers process, as described at the top of this file. */
export async function measureWsFloor({ subscribers, rate, seconds }: FloorOptions): Promise<FloorResult> {
  const spawn = (name: string) => fork(SELF, [name], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <T>(child: ChildProcess, type: string) =>
    new Promise<T>((resolve) => {
      const listener = (message: { type: string } & T) => {
        if (message.type !== type) return;
        child.off('message', listener);
        resolve(message);
      };
      child.on('message', listener);
    });
  const server = spawn('server');
  const clients = spawn('clients');
  try {
    const { port } = await next<{ port: number }>(server, 'listening');
    clients.send({ type: 'connect', url: `ws://127.0.0.1:${port}`, count: subscribers });
    await next(clients, 'connected');
    const cpu = (child: ChildProcess) => {
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    };
    const [serverBefore, clientsBefore] = [cpu(server), cpu(clients)];
    server.send({ type: 'broadcast', rate, seconds });
    const done = await next<{ sent: number; seconds: number }>(server, 'done');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const [serverCpu, clientsCpu] = [cpu(server) - serverBefore, cpu(clients) - clientsBefore];
    clients.send({ type: 'report' });
    const report = await next<{ received: number; p50: number; p99: number }>(clients, 'report');
    const messages = done.sent * subscribers;
    return {
      sent: done.sent,
      seconds: done.seconds,
      messages,
      received: report.received,
      p50: report.p50,
      p99: report.p99,
      serverCpuSeconds: serverCpu,
      clientsCpuSeconds: clientsCpu,
      serverMicrosPerMessage: (serverCpu / Math.max(1, messages)) * 1e6,
    };
  } finally {
    server.kill();
    clients.kill();
  }
}
