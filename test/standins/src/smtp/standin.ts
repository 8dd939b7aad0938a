import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';

export interface SmtpReply {
  readonly code: number;
  /** Reply text after the code, enhanced status code included (e.g. `5.7.1 Spam detected`). */
  readonly message: string;
}

/** Where a refusal is given: the greeting, MAIL FROM, RCPT TO or the reply to the message data. */
export type SmtpStage = 'connect' | 'mail' | 'rcpt' | 'data';

export type SmtpFault =
  | ({ readonly kind: 'reply'; readonly stage: SmtpStage } & SmtpReply)
  /** Take the message data and never answer it. */
  | { readonly kind: 'hang' }
  /** Take the message data, keep the message, and close the connection without a reply. */
  | { readonly kind: 'drop' };

/** Switches that hold until changed; tests flip them while the server runs. */
export interface SmtpStandinFaults {
  /** Recipients (any case) refused at RCPT TO with `550 5.1.1`. */
  rejectRecipients: string[];
  /** Refuse every command of a stage with this reply. */
  refuse: { [stage in SmtpStage]?: SmtpReply | undefined };
  /** Never answer the message data. */
  hang: boolean;
  /** Close the connection after the message data arrived, without a reply (the message counts as received). */
  dropAfterData: boolean;
  /** Delay before the reply to MAIL FROM, so a client can be caught before it sends the message. */
  envelopeLatencyMs: number;
  /** Delay before the final reply to the message data. */
  latencyMs: number;
}

export type SmtpOutcome = 'accepted' | 'rejected' | 'hung' | 'dropped';

export interface ReceivedSmtpMessage {
  /** What the SMTP session said: `MAIL FROM` and every accepted `RCPT TO`. */
  readonly envelope: { readonly mailFrom: string; readonly rcptTo: readonly string[] };
  readonly raw: Buffer;
  readonly parsed: ParsedMail;
  readonly outcome: SmtpOutcome;
  /** The reply sent after the data (`250 2.0.0 Ok: queued as ...`), absent when none was sent. */
  readonly reply?: string;
  /** The queue id in the 250 reply. */
  readonly queueId: string;
  /** Authenticated user name, when the client logged in. */
  readonly user?: string;
  readonly sessionId: string;
  readonly receivedAt: Date;
}

export interface SmtpStandinOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number;
  /** Require AUTH PLAIN/LOGIN with these credentials; a wrong password gets `535 5.7.8`. */
  readonly auth?: { readonly user: string; readonly pass: string };
  /** Implicit TLS (smtps) with smtp-server's built-in self-signed test certificate. */
  readonly secure?: boolean;
  /** Advertised SIZE limit; larger messages get `552`. */
  readonly maxSize?: number;
}

export interface SmtpStandin {
  readonly host: string;
  readonly port: number;
  /** `smtp://127.0.0.1:PORT` (or `smtps://` when secure), without credentials. */
  readonly url: string;
  /** Every message whose data arrived, in order, whatever the answer was; kept across restarts. */
  readonly messages: readonly ReceivedSmtpMessage[];
  readonly faults: SmtpStandinFaults;
  /** Connections accepted since start (or the last `reset()`). */
  readonly connectionCount: number;
  /** Connections open right now. */
  readonly openConnections: number;
  readonly running: boolean;
  /** Messages the server kept (accepted, or taken and then left unanswered): what a recipient would get. */
  delivered(): ReceivedSmtpMessage[];
  /** The next `count` transactions (connections, for stage `connect`) meet `fault`, before any switch. */
  failNext(count: number, fault: SmtpFault): void;
  /** Resolves once at least `count` messages have arrived. */
  waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedSmtpMessage[]>;
  /** Clears messages, counters and faults. */
  reset(): void;
  /** Stops listening and ends every connection with `421`. */
  close(): Promise<void>;
  /** Listens again on the same port (closing first when running). */
  restart(): Promise<void>;
}

const HOST = '127.0.0.1';
const SHUTDOWN_REPLY = '421 4.3.2 Service shutting down';

function defaultFaults(): SmtpStandinFaults {
  return { rejectRecipients: [], refuse: {}, hang: false, dropAfterData: false, envelopeLatencyMs: 0, latencyMs: 0 };
}

function smtpError(reply: SmtpReply): Error & { responseCode: number } {
  return Object.assign(new Error(reply.message), { responseCode: reply.code });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function startSmtpStandin(options: SmtpStandinOptions = {}): Promise<SmtpStandin> {
  const messages: ReceivedSmtpMessage[] = [];
  const faults = defaultFaults();
  let pending: SmtpFault[] = [];
  /** The failNext fault drawn for each session's current transaction. */
  const transactionFaults = new Map<string, SmtpFault>();
  const sockets = new Set<Socket>();
  const waiters = new Set<() => void>();
  let connectionCount = 0;
  let openConnections = 0;
  let server: SMTPServer | undefined;
  let port = options.port ?? 0;

  const drawPending = (connectStage: boolean): SmtpFault | undefined => {
    const next = pending[0];
    if (!next) return undefined;
    const isConnect = next.kind === 'reply' && next.stage === 'connect';
    if (isConnect !== connectStage) return undefined;
    pending = pending.slice(1);
    return next;
  };

  const stageReply = (session: SMTPServerSession, stage: SmtpStage): SmtpReply | undefined => {
    const fault = transactionFaults.get(session.id);
    if (fault?.kind === 'reply' && fault.stage === stage) return fault;
    return faults.refuse[stage];
  };

  const record = (message: ReceivedSmtpMessage) => {
    messages.push(message);
    for (const wake of waiters) wake();
  };

  const serverOptions: SMTPServerOptions = {
    logger: false,
    secure: options.secure ?? false,
    disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !options.auth,
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    disableReverseLookup: true,
    closeTimeout: 100,
    ...(options.maxSize ? { size: options.maxSize, rejectOversized: true } : {}),
    onConnect(_session, callback) {
      connectionCount += 1;
      openConnections += 1;
      const fault = drawPending(true);
      const reply = fault?.kind === 'reply' ? fault : faults.refuse.connect;
      callback(reply ? smtpError(reply) : null);
    },
    onClose(session) {
      openConnections -= 1;
      transactionFaults.delete(session.id);
    },
    onAuth(auth, _session, callback) {
      const expected = options.auth;
      if (expected && auth.username === expected.user && auth.password === expected.pass) {
        callback(null, { user: auth.username });
        return;
      }
      callback(smtpError({ code: 535, message: '5.7.8 Authentication credentials invalid' }));
    },
    onMailFrom(_address, session, callback) {
      transactionFaults.delete(session.id);
      const fault = drawPending(false);
      if (fault) transactionFaults.set(session.id, fault);
      const reply = stageReply(session, 'mail');
      const answer = () => callback(reply ? smtpError(reply) : null);
      if (faults.envelopeLatencyMs > 0) sleep(faults.envelopeLatencyMs).then(answer);
      else answer();
    },
    onRcptTo(address, session, callback) {
      const reply = stageReply(session, 'rcpt');
      if (reply) return callback(smtpError(reply));
      const refused = faults.rejectRecipients.some((email) => email.toLowerCase() === address.address.toLowerCase());
      if (refused)
        return callback(smtpError({ code: 550, message: `5.1.1 <${address.address}>: Recipient address rejected: User unknown` }));
      callback();
    },
    onData(stream, session, callback) {
      receive(stream, session).then(
        (answer) => {
          if (answer) callback(answer.error ?? null, answer.message);
        },
        (error: unknown) => callback(smtpError({ code: 451, message: `4.3.0 Stand-in failed: ${String(error)}` })),
      );
    },
  };

  type DataAnswer = { error?: Error; message?: string };

  async function receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<DataAnswer | undefined> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    if (stream.sizeExceeded) return { error: smtpError({ code: 552, message: '5.3.4 Message size exceeds fixed maximum message size' }) };
    const raw = Buffer.concat(chunks);
    const parsed = await simpleParser(raw, { keepCidLinks: true });
    const fault = transactionFaults.get(session.id);
    transactionFaults.delete(session.id);
    const reply = fault?.kind === 'reply' && fault.stage === 'data' ? fault : faults.refuse.data;
    const hang = fault ? fault.kind === 'hang' : faults.hang;
    const drop = fault ? fault.kind === 'drop' : faults.dropAfterData;
    const queueId = randomBytes(5).toString('hex').toUpperCase();
    const mailFrom = session.envelope.mailFrom;
    const base = {
      envelope: { mailFrom: mailFrom ? mailFrom.address : '', rcptTo: session.envelope.rcptTo.map((rcpt) => rcpt.address) },
      raw,
      parsed,
      queueId,
      sessionId: session.id,
      receivedAt: new Date(),
      ...(typeof session.user === 'string' ? { user: session.user } : {}),
    };
    const serving = server;
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    if (server !== serving) {
      // Shut down while the message waited for its reply: the client got 421, so nothing was kept.
      record({ ...base, outcome: 'rejected', reply: SHUTDOWN_REPLY });
      return undefined;
    }
    if (reply) {
      record({ ...base, outcome: 'rejected', reply: `${reply.code} ${reply.message}` });
      return { error: smtpError(reply) };
    }
    if (hang) {
      record({ ...base, outcome: 'hung' });
      return undefined;
    }
    if (drop) {
      record({ ...base, outcome: 'dropped' });
      const connection = [...(server?.connections ?? [])].find((candidate) => candidate.id === session.id);
      connection?._socket.destroy();
      return undefined;
    }
    const message = `2.0.0 Ok: queued as ${queueId}`;
    record({ ...base, outcome: 'accepted', reply: `250 ${message}` });
    return { message };
  }

  async function listen(): Promise<void> {
    const next = new SMTPServer(serverOptions);
    next.on('error', () => {
      // Clients that vanish mid-session (the point of several faults) surface here; they are expected.
    });
    next.server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    next.listen(port, HOST);
    await Promise.race([once(next.server, 'listening'), once(next.server, 'error').then(([error]) => Promise.reject(error as Error))]);
    const address = next.server.address();
    if (address === null || typeof address === 'string') throw new Error('smtp stand-in has no TCP address');
    port = address.port;
    server = next;
  }

  async function close(): Promise<void> {
    const current = server;
    if (!current) return;
    server = undefined;
    const closed = new Promise<void>((resolve) => current.close(() => resolve()));
    for (const connection of current.connections) connection.send(421, SHUTDOWN_REPLY.slice(4));
    const stragglers = setTimeout(() => {
      for (const socket of sockets) socket.destroy();
    }, 100);
    stragglers.unref();
    for (const socket of sockets) socket.end();
    await closed;
    clearTimeout(stragglers);
  }

  await listen();

  const scheme = options.secure ? 'smtps' : 'smtp';
  return {
    host: HOST,
    get port() {
      return port;
    },
    get url() {
      return `${scheme}://${HOST}:${port}`;
    },
    messages,
    faults,
    get connectionCount() {
      return connectionCount;
    },
    get openConnections() {
      return openConnections;
    },
    get running() {
      return server !== undefined;
    },
    delivered: () => messages.filter((message) => message.outcome !== 'rejected'),
    failNext(count, fault) {
      pending = [...pending, ...Array.from({ length: count }, () => fault)];
    },
    waitForMessages(count, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (messages.length < count) return;
          cleanup();
          resolve([...messages]);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`smtp stand-in got ${messages.length} of ${count} messages within ${timeoutMs} ms`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    reset() {
      messages.length = 0;
      Object.assign(faults, defaultFaults());
      pending = [];
      transactionFaults.clear();
      connectionCount = 0;
    },
    close,
    async restart() {
      await close();
      await listen();
    },
  };
}
