import { EventEmitter } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import {
  BAD_JSON_BODY,
  faultBodies,
  METHOD_NOT_ALLOWED_BODY,
  NOT_FOUND_BODY,
  newApiKey,
  newMessageId,
  type SendGridFaultStatus,
  TOO_LARGE_BODY,
  UNAUTHORIZED_BODY,
} from './responses.js';
import { loadMailSendSchemaValidator, type MailSendSchemaValidator } from './spec.js';
import { type MailSendBody, mailSendErrors, type SendGridApiError } from './validation.js';

export interface SendGridStandInOptions {
  /** The key clients must send as `Authorization: Bearer <key>`; a random SendGrid-shaped key by default. */
  readonly apiKey?: string;
  /** Port to listen on (127.0.0.1 only); 0, the default, picks a free one. */
  readonly port?: number;
  /** Scopes `GET /v3/scopes` lists for the key. */
  readonly scopes?: readonly string[];
  /** Addresses SendGrid should call invalid (any case). Any address at `invalid.test` always is. */
  readonly invalidAddresses?: readonly string[];
  /** Delay before every answer, in milliseconds. */
  readonly latencyMs?: number;
  /** Bodies larger than this are refused with 413 (SendGrid's limit is 30 MB). */
  readonly maxBodyBytes?: number;
  /** Clock for `X-RateLimit-Reset` and the request log (epoch ms). */
  readonly now?: () => number;
  /**
   * Most requests (and, apart, accepted messages) kept in the logs, oldest dropped first, so
   * long benchmarks stay within memory; the counters keep counting. Unlimited by default.
   */
  readonly logLimit?: number;
}

/**
 * What the stand-in does instead of behaving:
 * - `status`: answer with that status and SendGrid's body for it (429 adds the rate-limit headers);
 * - `hang`: read the request and never answer;
 * - `reset`: drop the connection after reading the request (`request`, the default) or after
 *   sending part of the response head (`response`);
 * - `acceptThenReset`: accept a valid message (it counts as sent) and drop the connection
 *   before answering, so the client cannot know;
 * - `raw`: answer with that status, body text and header values exactly as given (written as
 *   bytes: `headers` as Latin-1, `body` as UTF-8), NUL and all, as a misbehaving gateway might.
 */
export type SendGridFault =
  | { readonly kind: 'status'; readonly status: SendGridFaultStatus; readonly rateLimitResetSeconds?: number }
  | { readonly kind: 'hang' }
  | { readonly kind: 'reset'; readonly during?: 'request' | 'response' }
  | { readonly kind: 'acceptThenReset' }
  | { readonly kind: 'raw'; readonly status: number; readonly body: string; readonly headers?: Readonly<Record<string, string>> };

export type RequestOutcome =
  | { readonly kind: 'answered'; readonly status: number; readonly body?: unknown; readonly messageId?: string }
  | { readonly kind: 'hung' }
  | { readonly kind: 'reset'; readonly during: 'request' | 'response' }
  | { readonly kind: 'acceptedThenReset'; readonly messageId: string };

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  /** As received (lower-case names), `authorization` included. */
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  /** The body parsed as JSON; undefined when it was empty or not JSON. */
  readonly body: unknown;
  readonly receivedAt: number;
  /** The OpenAPI and API-rule verdict on a mail send body; absent when it was never judged. */
  readonly validation?: { readonly valid: boolean; readonly errors: readonly SendGridApiError[] };
  readonly outcome: RequestOutcome;
}

export interface AcceptedMessage {
  readonly messageId: string;
  readonly body: MailSendBody;
  readonly headers: IncomingHttpHeaders;
  readonly receivedAt: number;
}

interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  readonly body: unknown;
  readonly receivedAt: number;
}

const DEFAULT_SCOPES = ['mail.send', 'mail.batch.read', 'user.profile.read'];
const THIRTY_MB = 30 * 1024 * 1024;
const RATE_LIMIT = 600;

export async function startSendGridStandIn(options: SendGridStandInOptions = {}): Promise<SendGridStandIn> {
  const standIn = new SendGridStandIn(options, await loadMailSendSchemaValidator());
  await standIn.start();
  return standIn;
}

/** A local HTTP server that answers like SendGrid's v3 API (`POST /v3/mail/send`, `GET /v3/scopes`). */
export class SendGridStandIn {
  readonly apiKey: string;
  private server: Server | undefined;
  private boundPort: number;
  private fault: SendGridFault | undefined;
  private readonly queued: SendGridFault[] = [];
  private latencyMs: number;
  private readonly log: RecordedRequest[] = [];
  private readonly acceptedLog: AcceptedMessage[] = [];
  private counts = { requests: 0, accepted: 0 };
  private readonly events = new EventEmitter();
  private readonly now: () => number;
  private readonly invalid: ReadonlySet<string>;

  constructor(
    private readonly options: SendGridStandInOptions,
    private readonly schema: MailSendSchemaValidator,
  ) {
    this.apiKey = options.apiKey ?? newApiKey();
    this.boundPort = options.port ?? 0;
    this.latencyMs = options.latencyMs ?? 0;
    this.now = options.now ?? Date.now;
    this.invalid = new Set((options.invalidAddresses ?? []).map((address) => address.toLowerCase()));
  }

  /** `http://127.0.0.1:<port>`: the value for the provider's `baseUrl`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get port(): number {
    return this.boundPort;
  }

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  /** Every request received since the last `reset()`, oldest first. */
  get requests(): readonly RecordedRequest[] {
    return [...this.log];
  }

  /** Messages SendGrid would now deliver (202, or accepted before a reset), oldest first. */
  get accepted(): readonly AcceptedMessage[] {
    return [...this.acceptedLog];
  }

  /** Requests and accepted messages since the last `reset()`, including any dropped from the logs. */
  get counters(): { readonly requests: number; readonly accepted: number } {
    return { ...this.counts };
  }

  /** Listens again after `close()`, on the same port. */
  async start(): Promise<void> {
    if (this.server) throw new Error('SendGrid stand-in is already running');
    const server = createServer((req, res) => {
      this.handle(req, res).catch(() => req.socket.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.boundPort = (server.address() as AddressInfo).port;
  }

  /** Stops listening and drops every connection, hung ones included. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** Applies `fault` to every request from now on; `null` goes back to normal. */
  setFault(fault: SendGridFault | null): void {
    this.fault = fault ?? undefined;
  }

  failWith(status: SendGridFaultStatus): void {
    this.setFault({ kind: 'status', status });
  }

  /** The next `count` requests get `fault` (a status is short for `{ kind: 'status' }`), then the current mode resumes. */
  failNext(count: number, fault: SendGridFaultStatus | SendGridFault): void {
    const entry: SendGridFault = typeof fault === 'number' ? { kind: 'status', status: fault } : fault;
    for (let i = 0; i < count; i += 1) this.queued.push(entry);
  }

  /** Clears the fault mode and any queued `failNext` faults; latency stays as set. */
  normal(): void {
    this.fault = undefined;
    this.queued.length = 0;
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** Clears the request log, the accepted messages and the counters. */
  reset(): void {
    this.log.length = 0;
    this.acceptedLog.length = 0;
    this.counts = { requests: 0, accepted: 0 };
  }

  /** Resolves once at least `count` requests have arrived since the last `reset()`. */
  waitForRequests(count: number, timeoutMs = 5_000): Promise<readonly RecordedRequest[]> {
    if (this.counts.requests >= count) return Promise.resolve(this.requests);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.events.off('request', check);
        reject(new Error(`SendGrid stand-in: ${this.counts.requests} of ${count} requests after ${timeoutMs} ms`));
      }, timeoutMs);
      const check = () => {
        if (this.counts.requests < count) return;
        clearTimeout(timer);
        this.events.off('request', check);
        resolve(this.requests);
      };
      this.events.on('request', check);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { raw, tooLarge } = await readBody(req, this.options.maxBodyBytes ?? THIRTY_MB);
    if (this.latencyMs > 0) await delay(this.latencyMs);
    const received: Received = {
      method: req.method ?? 'GET',
      path: new URL(req.url ?? '/', 'http://127.0.0.1').pathname,
      headers: req.headers,
      rawBody: raw,
      body: parseJson(raw),
      receivedAt: this.now(),
    };
    const fault = this.queued.shift() ?? this.fault;
    if (fault && fault.kind !== 'acceptThenReset') {
      this.applyFault(fault, received, res);
      return;
    }
    if (tooLarge) return this.answer(received, res, 413, TOO_LARGE_BODY);
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) return this.answer(received, res, 401, UNAUTHORIZED_BODY);
    if (received.path === '/v3/scopes') {
      if (received.method !== 'GET') return this.answer(received, res, 405, METHOD_NOT_ALLOWED_BODY);
      return this.answer(received, res, 200, { scopes: [...(this.options.scopes ?? DEFAULT_SCOPES)] });
    }
    if (received.path !== '/v3/mail/send') return this.answer(received, res, 404, NOT_FOUND_BODY);
    if (received.method !== 'POST') return this.answer(received, res, 405, METHOD_NOT_ALLOWED_BODY);
    if (received.body === undefined) return this.answer(received, res, 400, BAD_JSON_BODY);
    this.mailSend(received, res, fault?.kind === 'acceptThenReset');
  }

  private mailSend(received: Received, res: ServerResponse, resetAfterAccepting: boolean): void {
    const errors = mailSendErrors(received.body, this.schema, { isInvalidAddress: (email) => this.isInvalid(email) });
    const validation = { valid: errors.length === 0, errors };
    if (errors.length > 0) {
      this.answer(received, res, 400, { errors }, validation);
      return;
    }
    const body = received.body as MailSendBody;
    if (body.mail_settings?.sandbox_mode?.enable === true) {
      // Sandbox mode checks the request and sends nothing: 200 and no message id.
      this.answer(received, res, 200, undefined, validation);
      return;
    }
    const messageId = newMessageId();
    this.counts.accepted += 1;
    this.keep(this.acceptedLog, { messageId, body, headers: received.headers, receivedAt: received.receivedAt });
    if (resetAfterAccepting) {
      this.record({ ...received, validation, outcome: { kind: 'acceptedThenReset', messageId } });
      res.socket?.destroy();
      return;
    }
    this.record({ ...received, validation, outcome: { kind: 'answered', status: 202, messageId } });
    res.writeHead(202, { 'X-Message-Id': messageId, 'Content-Length': '0' }).end();
  }

  private applyFault(fault: Exclude<SendGridFault, { kind: 'acceptThenReset' }>, received: Received, res: ServerResponse): void {
    switch (fault.kind) {
      case 'status': {
        const headers = fault.status === 429 ? this.rateLimitHeaders(fault.rateLimitResetSeconds ?? 1) : {};
        this.answer(received, res, fault.status, faultBodies[fault.status], undefined, headers);
        return;
      }
      case 'raw': {
        this.record({ ...received, outcome: { kind: 'answered', status: fault.status, body: parseJson(fault.body) } });
        // Node's response writer refuses some of these bytes in headers: they go straight to the socket.
        const headers = { 'Content-Type': 'application/json', ...fault.headers, 'Content-Length': String(Buffer.byteLength(fault.body)) };
        const head = `HTTP/1.1 ${fault.status} Error\r\n${Object.entries(headers)
          .map(([name, value]) => `${name}: ${value}\r\n`)
          .join('')}Connection: close\r\n\r\n`;
        res.socket?.end(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(fault.body, 'utf8')]));
        return;
      }
      case 'hang':
        this.record({ ...received, outcome: { kind: 'hung' } });
        return;
      case 'reset': {
        const during = fault.during ?? 'request';
        this.record({ ...received, outcome: { kind: 'reset', during } });
        const socket = res.socket;
        if (during === 'response' && socket) {
          socket.write('HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nX-Mess', () => socket.destroy());
        } else {
          socket?.destroy();
        }
        return;
      }
    }
  }

  private answer(
    received: Received,
    res: ServerResponse,
    status: number,
    body: unknown,
    validation?: RecordedRequest['validation'],
    headers: Record<string, string> = {},
  ): void {
    this.record({ ...received, ...(validation ? { validation } : {}), outcome: { kind: 'answered', status, body } });
    if (body === undefined) {
      res.writeHead(status, { ...headers, 'Content-Length': '0' }).end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) }).end(text);
  }

  private rateLimitHeaders(resetSeconds: number): Record<string, string> {
    return {
      'X-RateLimit-Limit': String(RATE_LIMIT),
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset': String(Math.ceil(this.now() / 1000) + resetSeconds),
    };
  }

  private record(request: RecordedRequest): void {
    this.counts.requests += 1;
    this.keep(this.log, request);
    this.events.emit('request');
  }

  private keep<T>(log: T[], entry: T): void {
    log.push(entry);
    if (log.length > (this.options.logLimit ?? Number.POSITIVE_INFINITY)) log.shift();
  }

  private isInvalid(email: string): boolean {
    const lower = email.toLowerCase();
    return this.invalid.has(lower) || lower.endsWith('@invalid.test');
  }
}

async function readBody(req: IncomingMessage, limit: number): Promise<{ raw: string; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return size > limit ? { raw: '', tooLarge: true } : { raw: Buffer.concat(chunks).toString('utf8'), tooLarge: false };
}

function parseJson(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}
