import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  /** As received (lower-case names), `authorization` included. */
  readonly headers: IncomingHttpHeaders;
}

/**
 * What the proxy does with one request: answer it itself (a provider whose error answers
 * echo what the client sent), or pass it on and add headers to the real answer.
 */
export type LeakyAnswer =
  | { readonly kind: 'answer'; readonly status: number; readonly headers?: Record<string, string>; readonly body?: string }
  | { readonly kind: 'forward'; readonly addHeaders?: Record<string, string> };

export interface LeakyProxy {
  readonly url: string;
  /** Every request received, in order, with its headers. */
  readonly requests: readonly SeenRequest[];
  /** Decides each request from now on; `null` passes everything through unchanged. */
  behave(behaviour: ((request: SeenRequest) => LeakyAnswer) | null): void;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of a provider stand-in that can make the provider careless: echo
 * the request's credentials in error bodies and response headers. Real APIs rarely do; the
 * point is to prove that even when they do, nothing secret reaches the attempt log.
 */
export async function startLeakyProxy(options: { readonly target: string }): Promise<LeakyProxy> {
  const target = new URL(options.target);
  const requests: SeenRequest[] = [];
  let behaviour: ((request: SeenRequest) => LeakyAnswer) | null = null;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`leaky proxy: ${error instanceof Error ? error.message : String(error)}`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const seen: SeenRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers };
    requests.push(seen);
    const decision = behaviour?.(seen) ?? { kind: 'forward' };
    if (decision.kind === 'answer') {
      const text = decision.body ?? '';
      res.writeHead(decision.status, { ...decision.headers, 'content-length': String(Buffer.byteLength(text)) }).end(text);
      return;
    }
    const answer = await new Promise<IncomingMessage>((resolve, reject) => {
      const upstream = httpRequest(
        {
          hostname: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host, 'content-length': String(body.length) },
        },
        resolve,
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
    res.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...decision.addHeaders });
    answer.pipe(res);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    behave(next) {
      behaviour = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
