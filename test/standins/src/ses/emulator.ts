import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Config as EmulatorConfig } from 'aws-ses-v2-local';
import { getSendQuotaXml, listParam, newRequestId, parseForm, readBody, sendXml, sesErrorXml, tagsParam, withLength } from './wire.js';

export interface SesEmulatorOptions {
  /** Port for `url`; 0 (the default) picks a free one, kept across `stop()`/`start()`. */
  readonly port?: number;
  /** What `GetSendQuota` reports. */
  readonly quota?: { readonly max24HourSend: number; readonly maxSendRate: number };
}

/** One mail as aws-ses-v2-local stored it, plus the request that carried it. */
export interface SesReceivedMail {
  readonly messageId: string;
  readonly action: 'SendEmail' | 'SendRawEmail';
  /** The MIME message exactly as sent (SendRawEmail only). */
  readonly raw?: Buffer;
  /** `Destinations` of SendRawEmail: the envelope, Bcc included (the emulator ignores it). */
  readonly destinations: readonly string[];
  /** Message tags as sent (the emulator ignores them). */
  readonly tags: Readonly<Record<string, string>>;
  readonly configurationSetName?: string;
  /** The form parameters of the request. */
  readonly params: Readonly<Record<string, string>>;
  /** Fields as the emulator parsed them. */
  readonly from: string;
  readonly subject: string;
  readonly destination: { readonly to: readonly string[]; readonly cc: readonly string[]; readonly bcc: readonly string[] };
  /** When the emulator stored it, epoch seconds. */
  readonly at: number;
}

export interface SesEmulator {
  /** Endpoint for the AWS SDK (`endpoint`), and for `GET /store` / `POST /clear-store`. */
  readonly url: string;
  readonly port: number;
  /** Mail received through this instance, oldest first. */
  messages(): Promise<SesReceivedMail[]>;
  /** Empties the emulator's store (`POST /clear-store`). */
  clear(): Promise<void>;
  /** Stops answering (connection refused), dropping open connections; received mail is kept. */
  stop(): Promise<void>;
  /** Answers again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

interface StoredEmail {
  readonly messageId: string;
  readonly from: string;
  readonly subject: string;
  readonly destination: { readonly to: string[]; readonly cc: string[]; readonly bcc: string[] };
  readonly at: number;
}

interface SentRequest {
  readonly action: 'SendEmail' | 'SendRawEmail';
  readonly params: Readonly<Record<string, string>>;
}

/**
 * aws-ses-v2-local is CommonJS with `exports.default`; Node and vitest disagree on what a
 * default import of it yields, so it is loaded with `require` to get one shape everywhere.
 */
const { default: startEmulatorServer } = createRequire(import.meta.url)('aws-ses-v2-local') as {
  readonly default: (config: Partial<EmulatorConfig>) => Promise<Server>;
};

/** The actions aws-ses-v2-local implements on its Query API endpoint. */
const EMULATED_ACTIONS = new Set(['SendEmail', 'SendRawEmail']);

const DAY_MS = 24 * 60 * 60_000;

/**
 * aws-ses-v2-local, in process on 127.0.0.1, behind a small front server that keeps what the
 * emulator drops: the raw MIME, `Destinations` and tags of each request. The front also
 * answers `GetSendQuota` (XML in the shape real SES sends) and, like real SES, refuses other
 * actions the emulator lacks with `InvalidAction`: the emulator never answers them, which
 * would hang the SDK until its timeout.
 *
 * The emulator keeps its store in module state: instances in one process share it, so
 * `messages()` lists only the mail this instance received, but `clear()` empties it for all.
 */
export async function startSesEmulator(options: SesEmulatorOptions = {}): Promise<SesEmulator> {
  const emulator = await startEmulatorServer({ host: '127.0.0.1', port: 0 });
  const emulatorPort = (emulator.address() as AddressInfo).port;
  const quota = options.quota ?? { max24HourSend: 50_000, maxSendRate: 14 };
  const sent = new Map<string, SentRequest & { readonly at: number }>();

  const front: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`ses emulator front: ${error instanceof Error ? error.message : String(error)}`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const params = parseForm(req, body);
    const action = params.Action;
    if (action !== undefined && !EMULATED_ACTIONS.has(action)) {
      answerUnemulated(action, req, res);
      return;
    }
    const answer = await toEmulator(req.method ?? 'GET', req.url ?? '/', req.headers, body);
    if ((action === 'SendEmail' || action === 'SendRawEmail') && answer.status === 200) {
      const messageId = /<MessageId>([^<]+)<\/MessageId>/.exec(answer.body.toString('utf8'))?.[1];
      if (messageId) sent.set(messageId, { action, params, at: Date.now() });
    }
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  }

  function answerUnemulated(action: string, req: IncomingMessage, res: ServerResponse): void {
    const requestId = newRequestId();
    if (!req.headers.authorization) {
      const missing = {
        status: 403,
        type: 'Sender',
        code: 'MissingAuthenticationToken',
        message: 'Request is missing Authentication Token',
      } as const;
      sendXml(res, missing.status, sesErrorXml(missing, requestId), requestId);
      return;
    }
    if (action === 'GetSendQuota') {
      const since = Date.now() - DAY_MS;
      const sentLast24Hours = [...sent.values()].filter((entry) => entry.at >= since).length;
      sendXml(res, 200, getSendQuotaXml({ ...quota, sentLast24Hours }, requestId), requestId);
      return;
    }
    const invalid = {
      status: 400,
      type: 'Sender',
      code: 'InvalidAction',
      message: `The action ${action} is not valid for this web service.`,
    } as const;
    sendXml(res, invalid.status, sesErrorXml(invalid, requestId), requestId);
  }

  function toEmulator(
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const upstream = httpRequest(
        { hostname: '127.0.0.1', port: emulatorPort, method, path, headers: withLength(headers, body.length) },
        (answer) => {
          readBody(answer).then((answerBody) => {
            resolve({ status: answer.statusCode ?? 502, headers: withLength(answer.headers, answerBody.length), body: answerBody });
          }, reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  let port = options.port ?? 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      front.once('error', reject);
      front.listen(port, '127.0.0.1', () => {
        front.off('error', reject);
        port = (front.address() as AddressInfo).port;
        resolve();
      });
    });
  const stopFront = () =>
    new Promise<void>((resolve) => {
      if (!front.listening) {
        resolve();
        return;
      }
      front.close(() => resolve());
      front.closeAllConnections();
    });

  await listen();
  const url = `http://127.0.0.1:${port}`;
  const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;

  return {
    url,
    port,
    async messages() {
      const response = await fetch(`${emulatorUrl}/store`);
      const store = (await response.json()) as { emails: StoredEmail[] };
      return store.emails.flatMap((email) => {
        const request = sent.get(email.messageId);
        return request ? [receivedMail(email, request)] : [];
      });
    },
    async clear() {
      await fetch(`${emulatorUrl}/clear-store`, { method: 'POST' });
      sent.clear();
    },
    stop: stopFront,
    start: listen,
    async close() {
      await stopFront();
      await new Promise<void>((resolve) => {
        emulator.close(() => resolve());
        emulator.closeAllConnections();
      });
    },
  };
}

function receivedMail(email: StoredEmail, request: SentRequest): SesReceivedMail {
  const { params } = request;
  const raw = params['RawMessage.Data'];
  const configurationSetName = params.ConfigurationSetName;
  return {
    messageId: email.messageId,
    action: request.action,
    ...(raw === undefined ? {} : { raw: Buffer.from(raw, 'base64') }),
    destinations: listParam(params, 'Destinations'),
    tags: tagsParam(params),
    ...(configurationSetName === undefined ? {} : { configurationSetName }),
    params,
    from: email.from,
    subject: email.subject,
    destination: email.destination,
    at: email.at,
  };
}
