import { verify, X509Certificate } from 'node:crypto';
import { get } from 'node:https';
import { z } from 'zod';

/** Where the PEM text of an SNS signing certificate comes from (HTTPS in production, a map in tests). */
export type CertificateSource = (url: string) => Promise<string>;

/** An SNS HTTP(S) delivery, as the JSON body SNS posts. */
export interface SnsMessage {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  SubscribeURL?: string;
  Token?: string;
  Subject?: string;
  UnsubscribeURL?: string;
}

export type SnsVerdict = { ok: true; message: SnsMessage } | { ok: false; status: 400 | 401 | 403; reason: string };

const snsMessageSchema = z.object({
  Type: z.enum(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']),
  MessageId: z.string().min(1),
  TopicArn: z.string().min(1),
  Message: z.string(),
  Timestamp: z.string().min(1),
  SignatureVersion: z.string(),
  Signature: z.string().min(1),
  SigningCertURL: z.string().min(1),
  SubscribeURL: z.string().exactOptional(),
  Token: z.string().exactOptional(),
  Subject: z.string().exactOptional(),
  UnsubscribeURL: z.string().exactOptional(),
}) satisfies z.ZodType<SnsMessage>;

/** The fields SNS signs, in the fixed order AWS documents; a field that is absent is left out. */
const signedFieldsOfType: Record<string, readonly (keyof SnsMessage)[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

const digestOfVersion: Record<string, 'sha1' | 'sha256'> = { '1': 'sha1', '2': 'sha256' };

/** SNS's regional endpoints, including GovCloud and the China partition. */
const SNS_HOST = /^sns\.[a-z]{2}(?:-[a-z]+)+-\d\.amazonaws\.com(?:\.cn)?$/;

/**
 * Whether a SigningCertURL points at a genuine SNS host over HTTPS. The URL must already be in
 * canonical form, so that what is checked here is exactly what a certificate source fetches.
 */
export function isSnsCertificateUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    parsed.href === url &&
    parsed.protocol === 'https:' &&
    parsed.port === '' &&
    parsed.username === '' &&
    parsed.password === '' &&
    parsed.search === '' &&
    SNS_HOST.test(parsed.hostname) &&
    parsed.pathname.endsWith('.pem')
  );
}

/**
 * Checks an SNS delivery: shape (400), topic and certificate host (403, before anything is
 * fetched), then the signature with the certificate's key (401). Rejects only when the
 * certificate cannot be obtained: a 4xx would make SNS drop the message, so the caller should
 * answer 5xx and let SNS retry.
 */
export async function verifySnsMessage(
  body: unknown,
  options: { allowedTopicArns: readonly string[]; certificateSource: CertificateSource; now?: () => number },
): Promise<SnsVerdict> {
  const parsed = snsMessageSchema.safeParse(body);
  if (!parsed.success) return { ok: false, status: 400, reason: describeIssue(parsed.error) };
  const message: SnsMessage = parsed.data;
  const digest = digestOfVersion[message.SignatureVersion];
  if (digest === undefined)
    return { ok: false, status: 400, reason: `SignatureVersion ${clip(message.SignatureVersion)} is not supported` };
  if (!options.allowedTopicArns.includes(message.TopicArn)) {
    return { ok: false, status: 403, reason: `topic ${clip(message.TopicArn)} is not configured for any SES provider` };
  }
  if (!isSnsCertificateUrl(message.SigningCertURL)) {
    return { ok: false, status: 403, reason: `SigningCertURL ${clip(message.SigningCertURL)} is not an https URL on an SNS host` };
  }
  const certificate = parseCertificate(await options.certificateSource(message.SigningCertURL));
  if (certificate === undefined) return { ok: false, status: 401, reason: 'the signing certificate is not a valid X.509 certificate' };
  const now = options.now?.() ?? Date.now();
  if (now < Date.parse(certificate.validFrom) || now > Date.parse(certificate.validTo)) {
    return { ok: false, status: 401, reason: 'the signing certificate is not valid at this time' };
  }
  const signature = Buffer.from(message.Signature, 'base64');
  if (!BASE64.test(message.Signature) || !verifies(digest, stringToSign(message), certificate, signature)) {
    return { ok: false, status: 401, reason: 'SNS signature does not match the message' };
  }
  return { ok: true, message };
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function verifies(digest: 'sha1' | 'sha256', text: string, certificate: X509Certificate, signature: Buffer): boolean {
  try {
    return verify(digest, Buffer.from(text, 'utf8'), certificate.publicKey, signature);
  } catch {
    return false;
  }
}

function parseCertificate(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

function stringToSign(message: SnsMessage): string {
  const fields = signedFieldsOfType[message.Type] ?? [];
  return fields.map((name) => (message[name] === undefined ? '' : `${name}\n${message[name]}\n`)).join('');
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'body is not an SNS message';
  const path = issue.path.join('.');
  return clip(path === '' ? `body: ${issue.message}` : `${path}: ${issue.message}`);
}

const MAX_REASON = 200;

function clip(text: string): string {
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON)}…` : text;
}

/** A certificate is a few KB; anything much larger is not one. */
const MAX_CERTIFICATE_BYTES = 64 * 1024;

/**
 * Fetches certificates over HTTPS only (no redirects) and keeps each one per URL for the life of
 * the source: SNS rotates certificates by publishing them at new URLs. A failed fetch is not kept.
 * `ca` replaces the trusted roots, for a private CA.
 */
export function httpsCertificateSource(options: { timeoutMs?: number; ca?: string } = {}): CertificateSource {
  const timeoutMs = options.timeoutMs ?? 5000;
  const cache = new Map<string, Promise<string>>();
  return (url) => {
    const cached = cache.get(url);
    if (cached !== undefined) return cached;
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:') return Promise.reject(new Error(`refusing to fetch a certificate over ${parsed.protocol}`));
    const pending = fetchText(parsed, timeoutMs, options.ca);
    cache.set(url, pending);
    pending.catch(() => cache.delete(url));
    return pending;
  };
}

function fetchText(url: URL, timeoutMs: number, ca: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = get(url, ca === undefined ? {} : { ca }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        request.destroy(new Error(`GET ${url.href} answered ${response.statusCode}`));
        return;
      }
      response.on('error', (error) => request.destroy(error));
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_CERTIFICATE_BYTES) request.destroy(new Error(`GET ${url.href} answered more than ${MAX_CERTIFICATE_BYTES} bytes`));
        else chunks.push(chunk);
      });
      response.on('end', () => {
        clearTimeout(deadline);
        resolve(Buffer.concat(chunks).toString('utf8'));
      });
    });
    const deadline = setTimeout(() => request.destroy(new Error(`GET ${url.href} took longer than ${timeoutMs} ms`)), timeoutMs);
    request.on('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
  });
}
