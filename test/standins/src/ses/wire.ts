import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/** Namespace of the SES v1 (Query API) XML answers. */
export const SES_XMLNS = 'http://ses.amazonaws.com/doc/2010-12-01/';

export interface SesErrorAnswer {
  readonly status: number;
  /** `Sender` for the caller's faults, `Receiver` for the service's. */
  readonly type: 'Sender' | 'Receiver';
  readonly code: string;
  readonly message: string;
}

export interface SendQuota {
  readonly max24HourSend: number;
  readonly maxSendRate: number;
  readonly sentLast24Hours: number;
}

export function newRequestId(): string {
  return randomUUID();
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (char) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' }[char]};`);
}

export function sesErrorXml(answer: SesErrorAnswer, requestId: string): string {
  return (
    `<ErrorResponse xmlns="${SES_XMLNS}"><Error><Type>${answer.type}</Type><Code>${escapeXml(answer.code)}</Code>` +
    `<Message>${escapeXml(answer.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}

export function getSendQuotaXml(quota: SendQuota, requestId: string): string {
  return (
    `<GetSendQuotaResponse xmlns="${SES_XMLNS}"><GetSendQuotaResult>` +
    `<SentLast24Hours>${quota.sentLast24Hours.toFixed(1)}</SentLast24Hours>` +
    `<Max24HourSend>${quota.max24HourSend.toFixed(1)}</Max24HourSend>` +
    `<MaxSendRate>${quota.maxSendRate.toFixed(1)}</MaxSendRate>` +
    `</GetSendQuotaResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetSendQuotaResponse>`
  );
}

/** Answers the way SES does: XML body, `text/xml`, and the request id as a header too. */
export function sendXml(res: ServerResponse, status: number, xml: string, requestId: string): void {
  res.writeHead(status, {
    'content-type': 'text/xml',
    'content-length': Buffer.byteLength(xml),
    'x-amzn-requestid': requestId,
  });
  res.end(xml);
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The form parameters of a Query API call (`Action=SendRawEmail&RawMessage.Data=...`). */
export function parseForm(req: IncomingMessage, body: Buffer): Record<string, string> {
  const type = req.headers['content-type'] ?? '';
  if (req.method !== 'POST' || !type.startsWith('application/x-www-form-urlencoded')) return {};
  return Object.fromEntries(new URLSearchParams(body.toString('utf8')));
}

/** Values of a Query API list (`Destinations.member.1`, `Destinations.member.2`, ...), in order. */
export function listParam(params: Readonly<Record<string, string>>, name: string): string[] {
  const values: string[] = [];
  for (let index = 1; ; index++) {
    const value = params[`${name}.member.${index}`];
    if (value === undefined) return values;
    values.push(value);
  }
}

/** `Tags.member.N.Name` / `Tags.member.N.Value` pairs as an object. */
export function tagsParam(params: Readonly<Record<string, string>>): Record<string, string> {
  const tags: Record<string, string> = {};
  for (let index = 1; ; index++) {
    const name = params[`Tags.member.${index}.Name`];
    if (name === undefined) return tags;
    tags[name] = params[`Tags.member.${index}.Value`] ?? '';
  }
}

/** Headers for re-sending a buffered message: its length is now known, so no chunking. */
export function withLength(headers: IncomingHttpHeaders, length: number): IncomingHttpHeaders {
  const { 'transfer-encoding': _chunked, ...rest } = headers;
  return { ...rest, 'content-length': String(length) };
}
