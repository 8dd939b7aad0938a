import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { faultLabel, resolveFault, type SesFault, type SesFaultName } from './faults.js';
import { newRequestId, parseForm, readBody, sendXml, sesErrorXml, withLength } from './wire.js';

export interface SesProxyRequest {
  readonly method: string;
  readonly path: string;
  /** The Query API action (`SendRawEmail`, `GetSendQuota`, ...), when the request had one. */
  readonly action?: string;
  /** Form parameters as sent, e.g. `Destinations.member.1`, `RawMessage.Data` (base64). */
  readonly params: Readonly<Record<string, string>>;
  /** Label of the fault applied, absent when the request was passed through. */
  readonly fault?: string;
  readonly at: number;
}

export interface SesFaultProxyOptions {
  /** Where passed-through requests go, e.g. the emulator's `url`. */
  readonly target: string;
  readonly port?: number;
}

export interface SesFaultProxy {
  readonly url: string;
  readonly port: number;
  /** Every request received, in order, faulted or not. */
  readonly requests: readonly SesProxyRequest[];
  requestsFor(action: string): SesProxyRequest[];
  /** Applies `fault` to every request until changed; `null` passes requests through again. */
  setFault(fault: SesFault | SesFaultName | null): void;
  /** Applies `fault` to the next `count` requests only (before any fault set with `setFault`). */
  failNext(count: number, fault: SesFault | SesFaultName): void;
  /** Delays every request by `ms` before it is answered or forwarded. */
  setLatency(ms: number): void;
  /** Back to pass-through: no faults, no latency, empty request log. */
  reset(): void;
  close(): Promise<void>;
}

/**
 * An HTTP proxy between the AWS SDK and an SES endpoint (normally the emulator) that
 * answers like real SES when told to: throttling, rejections, auth failures, 5xx, a gateway
 * 504, a hung or dropped connection. Switchable while running.
 */
export async function startSesFaultProxy(options: SesFaultProxyOptions): Promise<SesFaultProxy> {
  const target = new URL(options.target);
  const requests: SesProxyRequest[] = [];
  const queued: (SesFault | SesFaultName)[] = [];
  let standing: SesFault | SesFaultName | null = null;
  let latencyMs = 0;

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`fault proxy: ${error instanceof Error ? error.message : String(error)}`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const params = parseForm(req, body);
    const fault = queued.shift() ?? standing;
    requests.push({
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      ...(params.Action === undefined ? {} : { action: params.Action }),
      params,
      ...(fault === null ? {} : { fault: faultLabel(fault) }),
      at: Date.now(),
    });
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    if (fault === null) {
      await forward(req, body, res);
      return;
    }
    await applyFault(resolveFault(fault), req, body, res);
  }

  async function applyFault(fault: SesFault, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    switch (fault.kind) {
      case 'error': {
        const requestId = newRequestId();
        if (fault.rawBody === undefined) {
          sendXml(res, fault.status, sesErrorXml(fault, requestId), requestId);
          return;
        }
        res.writeHead(fault.status, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(fault.rawBody) });
        res.end(fault.rawBody);
        return;
      }
      case 'hang':
        return;
      case 'reset':
        resetSocket(req.socket);
        return;
      case 'acceptThenReset':
        await exchange(req, body);
        resetSocket(req.socket);
        return;
    }
  }

  function send(req: IncomingMessage, body: Buffer): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const upstream = httpRequest(
        {
          hostname: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: withLength(req.headers, body.length),
        },
        resolve,
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  async function forward(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    const answer = await send(req, body);
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  }

  /** Lets the target fully process the request, answer discarded. */
  async function exchange(req: IncomingMessage, body: Buffer): Promise<void> {
    await readBody(await send(req, body));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    requestsFor: (action) => requests.filter((entry) => entry.action === action),
    setFault(fault) {
      standing = fault;
    },
    failNext(count, fault) {
      for (let index = 0; index < count; index++) queued.push(fault);
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    reset() {
      standing = null;
      queued.length = 0;
      latencyMs = 0;
      requests.length = 0;
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** A TCP RST, not a clean close: what a crashing load balancer or a dropped route looks like. */
function resetSocket(socket: Socket): void {
  socket.resetAndDestroy();
}
