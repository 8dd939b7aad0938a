import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWireTracker, newWireState } from './wire.js';

/** One POST; resolves with the status, or with the error code when the connection fails. */
function post(port: number, path: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.setTimeout(300, () => req.destroy(Object.assign(new Error('timed out'), { code: 'TIMED_OUT' })));
    req.end('Action=SendRawEmail');
  });
}

describe('createWireTracker', () => {
  let server: Server;
  let port: number;
  let closedPort: number;
  const tracker = createWireTracker();

  beforeAll(async () => {
    // `/hang` reads the request and never answers; anything else gets 200.
    server = createServer((req, res) => {
      req.resume();
      if (req.url !== '/hang') res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
  });
  afterAll(async () => {
    tracker.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('marks an armed request written once it is on the wire, even without an answer', async () => {
    const state = newWireState();
    const result = await tracker.run(state, async () => {
      tracker.arm();
      return post(port, '/hang');
    });
    expect(result).toBe('TIMED_OUT');
    expect(state.written).toBe(true);
  });

  it('does not mark a request that never connected', async () => {
    const state = newWireState();
    const result = await tracker.run(state, async () => {
      tracker.arm();
      return post(closedPort, '/');
    });
    expect(result).toBe('ECONNREFUSED');
    expect(state).toEqual({ armed: true, written: false });
  });

  it('ignores requests made before arming (credential lookups) and outside its context', async () => {
    const state = newWireState();
    await tracker.run(state, async () => {
      expect(await post(port, '/credentials')).toBe(200);
      expect(state.written).toBe(false);
      tracker.arm();
      expect(await post(closedPort, '/')).toBe('ECONNREFUSED');
    });
    expect(state.written).toBe(false);

    const untouched = newWireState();
    tracker.arm();
    expect(await post(port, '/')).toBe(200);
    expect(untouched).toEqual({ armed: false, written: false });
  });
});
