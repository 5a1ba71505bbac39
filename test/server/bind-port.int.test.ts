import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { bindPort, serve } from '../../src/server/bind-port.js';
import { StartupRefusal } from '../../src/startup-refusal.js';

describe('bindPort', () => {
  const opened: { close: () => void }[] = [];
  afterEach(() => opened.splice(0).forEach((server) => server.close()));

  it('answers 503 "starting" (and /live 200) until the app takes over', async () => {
    const server = await bindPort(0, '127.0.0.1');
    opened.push(server);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const starting = await fetch(`${base}/health`);
    expect(starting.status).toBe(503);
    expect(starting.headers.get('retry-after')).toBe('1');
    expect(await starting.json()).toEqual({ status: 'starting' });
    expect((await fetch(`${base}/live`)).status).toBe(200);

    serve(server, (_request, response) => response.writeHead(200).end('app'));
    const served = await fetch(`${base}/health`);
    expect(served.status).toBe(200);
    expect(await served.text()).toBe('app');
  });

  it('refuses a taken port with one line naming it', async () => {
    const first = await bindPort(0, '127.0.0.1');
    opened.push(first);
    const { port } = first.address() as AddressInfo;
    const refused = await bindPort(port, '127.0.0.1').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StartupRefusal);
    expect((refused as Error).message).toBe(`port ${port} is already in use on 127.0.0.1: stop what listens on 127.0.0.1:${port} or set PORT`);
  });
});
