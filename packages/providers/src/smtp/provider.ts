import type { Readable } from 'node:stream';
import { accepted, type Provider, type ProviderDetail, redact, rejected, type SendOutcome, type VerifyOutcome } from '@mailroute/core';
import nodemailer, { type SMTPPoolOptions, type SMTPPoolSentMessageInfo } from 'nodemailer';
import { type SmtpProviderConfig, type SmtpProviderConfigInput, smtpProviderConfigSchema } from './config.js';
import { messageIdFor, toMailOptions } from './converter.js';
import { classifySmtpError } from './errors.js';

/**
 * An SMTP relay through a pooled nodemailer transport.
 *
 * Cancelling a send: nodemailer (>= 10.5) takes an AbortSignal per message. On abort the pool
 * drops the message from its queue, or closes only the one pooled connection that is carrying
 * it, so other sends in flight on other connections go on. We hand it a signal of our own per
 * send (following `context.signal`) so that the message stream of that send can be found
 * again: a `stream` plugin records the final message stream, and whether any byte of it was
 * read by the connection tells whether the data had gone out (`requestWritten`). Reading starts
 * only after the server accepted DATA, so an abort during connect, AUTH, MAIL FROM or RCPT TO
 * reports false. Any byte counts as written: a message cut mid-data cannot have been accepted,
 * but calling that ambiguous errs towards holding a message rather than duplicating it.
 */
export function createSmtpProvider(input: SmtpProviderConfigInput): Provider {
  const config = smtpProviderConfigSchema.parse(input);
  const secrets = secretsOf(config);
  const transporter = nodemailer.createTransport(transportOptions(config));
  const sendStreams = new WeakMap<AbortSignal, { stream?: Readable }>();

  transporter.use('stream', (mail, done) => {
    const record = mail.data.signal ? sendStreams.get(mail.data.signal) : undefined;
    if (record && mail.message) {
      mail.message.processFunc((stream) => {
        record.stream = stream;
        return stream;
      });
    }
    done();
  });

  const failure = (error: unknown, requestWritten: boolean) =>
    rejected(classifySmtpError(error, { provider: config.name, requestWritten, secrets }));

  return {
    name: config.name,
    type: 'smtp',

    async send(message, context): Promise<SendOutcome> {
      if (context.signal.aborted) return failure(abortError(), false);
      const controller = new AbortController();
      const forward = () => controller.abort(context.signal.reason);
      context.signal.addEventListener('abort', forward, { once: true });
      const record: { stream?: Readable } = {};
      sendStreams.set(controller.signal, record);
      try {
        const info = await transporter.sendMail({ ...toMailOptions(message), signal: controller.signal });
        return accepted(messageIdFor(message), redact(acceptedDetail(info), secrets));
      } catch (error) {
        return failure(error, record.stream?.readableDidRead === true);
      } finally {
        context.signal.removeEventListener('abort', forward);
      }
    },

    async verify(context = {}): Promise<VerifyOutcome> {
      const { signal } = context;
      if (signal?.aborted) return failure(abortError(), false);
      try {
        // verify() opens its own connection outside the pool and takes no signal: on abort we
        // answer at once and leave that connection to its connection/greeting timeouts.
        await (signal ? untilAborted(transporter.verify(), signal) : transporter.verify());
        return { ok: true };
      } catch (error) {
        return failure(error, false);
      }
    },

    async close() {
      transporter.close();
    },
  };
}

function transportOptions(config: SmtpProviderConfig): SMTPPoolOptions & { pool: true } {
  return {
    pool: true,
    ...(config.url === undefined ? {} : { url: config.url }),
    ...(config.host === undefined ? {} : { host: config.host }),
    ...(config.port === undefined ? {} : { port: config.port }),
    ...(config.secure === undefined ? {} : { secure: config.secure }),
    ...(config.auth === undefined ? {} : { auth: { user: config.auth.user, pass: config.auth.pass } }),
    ...(config.clientHostname === undefined ? {} : { name: config.clientHostname }),
    tls: {
      rejectUnauthorized: config.tls.rejectUnauthorized,
      minVersion: config.tls.minVersion,
      ...(config.tls.servername === undefined ? {} : { servername: config.tls.servername }),
    },
    requireTLS: config.requireTLS,
    maxConnections: config.maxConnections,
    maxMessages: config.maxMessages,
    // Retries belong to the dispatcher: the pool must not silently resend over a new connection.
    maxRequeues: 0,
    connectionTimeout: config.connectionTimeoutMs,
    greetingTimeout: config.greetingTimeoutMs,
    socketTimeout: config.socketTimeoutMs,
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  };
}

/** The password as configured and in the encodings AUTH PLAIN / LOGIN put on the wire. */
function secretsOf(config: SmtpProviderConfig): string[] {
  const fromUrl = config.url ? new URL(config.url) : undefined;
  const user = config.auth?.user ?? decodeURIComponent(fromUrl?.username ?? '');
  const pass = config.auth?.pass ?? decodeURIComponent(fromUrl?.password ?? '');
  if (!pass) return [];
  const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  return [pass, encodeURIComponent(pass), base64(pass), base64(`\0${user}\0${pass}`)];
}

function acceptedDetail(info: SMTPPoolSentMessageInfo): ProviderDetail {
  const status = Number(/^\d{3}/.exec(info.response)?.[0]);
  const refused = (info.rejectedErrors ?? []).map((error) => ({ recipient: error.recipient, response: error.response }));
  return {
    ...(Number.isNaN(status) ? {} : { status }),
    body: {
      response: info.response,
      accepted: info.accepted,
      ...(info.rejected.length > 0 ? { rejected: refused.length > 0 ? refused : info.rejected } : {}),
      ...(info.serverMessageId === undefined ? {} : { serverMessageId: info.serverMessageId }),
    },
    requestWritten: true,
  };
}

function abortError(): Error & { code: string } {
  return Object.assign(new Error('Message sending aborted'), { code: 'EABORT' });
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
