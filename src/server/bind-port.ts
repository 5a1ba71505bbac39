import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { StartupRefusal } from '../startup-refusal.js';

/** The app's liveness probe (app.ts, `healthCheckEndpoint`). */
const LIVENESS_PATH = '/live';

/**
 * Binds the port before any other start-up work, so that a taken port is
 * refused at once, in one line, before the store is opened or a projection
 * runs. Until `serve` hands over to the app, requests get 503 "starting",
 * except the liveness probe: opening a store (or repairing its read model)
 * can take a while, and a process that is starting is alive.
 */
export async function bindPort(port: number, host: string): Promise<Server> {
  const server = createServer(startingUp);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    throw refusalFor(error, port, host) ?? error;
  }
  return server;
}

/** Hands the bound server's requests to the app. */
export function serve(server: Server, app: RequestListener): void {
  server.off('request', startingUp);
  server.on('request', app);
}

function startingUp(request: IncomingMessage, response: ServerResponse): void {
  if (request.url === LIVENESS_PATH) response.writeHead(200).end();
  else response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"status":"starting"}');
}

function refusalFor(error: unknown, port: number, host: string): StartupRefusal | undefined {
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch ((error as { code?: string }).code) {
    case 'EADDRINUSE':
      return new StartupRefusal(`port ${port} is already in use on ${host}: stop what listens on ${address} or set PORT`);
    case 'EACCES':
      return new StartupRefusal(`no permission to listen on ${address}: choose a PORT above 1023 or grant the permission`);
    case 'EADDRNOTAVAIL':
      return new StartupRefusal(`cannot listen on ${address}: HOST ${host} is not an address of this machine`);
    default:
      return undefined;
  }
}
