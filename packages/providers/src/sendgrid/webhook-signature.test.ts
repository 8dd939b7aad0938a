import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSendgridSigner, sendgridEvent } from '../testing/index.js';
import { sendGridProviderConfigSchema } from './config.js';
import { parseSendgridPublicKey, verifySendgridSignature } from './webhook-signature.js';

const NOW = 1_764_000_000_000;
const now = () => NOW;
const nowSeconds = String(NOW / 1000);
const signer = createSendgridSigner();
const options = { publicKey: signer.publicKey, toleranceSeconds: 300, now };
const body = JSON.stringify([
  sendgridEvent({ event: 'delivered', mailrouteId: 'm-1', email: 'zoë@example.com', timestamp: NOW / 1000 }),
  sendgridEvent({ event: 'open', mailrouteId: 'm-1', timestamp: NOW / 1000 }),
]);

function signed(rawBody: string | Buffer = body, timestamp = nowSeconds) {
  const { signature } = signer.sign(rawBody, timestamp);
  return { rawBody: Buffer.from(rawBody), signature, timestamp };
}

describe('verifySendgridSignature', () => {
  it('accepts a body signed with the configured key, with non-ASCII bytes intact', () => {
    expect(verifySendgridSignature(signed(), options)).toEqual({ ok: true });
  });

  it('accepts a key parsed once beforehand', () => {
    expect(verifySendgridSignature(signed(), { ...options, publicKey: parseSendgridPublicKey(signer.publicKey) })).toEqual({ ok: true });
    const other = parseSendgridPublicKey(createSendgridSigner().publicKey);
    expect(verifySendgridSignature(signed(), { ...options, publicKey: other })).toMatchObject({ ok: false, status: 401 });
  });

  it('accepts the key as PEM too', () => {
    const pem = parseSendgridPublicKey(signer.publicKey).export({ type: 'spki', format: 'pem' }).toString();
    expect(verifySendgridSignature(signed(), { ...options, publicKey: pem })).toEqual({ ok: true });
  });

  it('refuses a body with one byte changed', () => {
    const request = signed();
    const tampered = Buffer.from(request.rawBody);
    tampered[10] = (tampered[10] ?? 0) ^ 0x01;
    expect(verifySendgridSignature({ ...request, rawBody: tampered }, options)).toMatchObject({ ok: false, status: 401 });
  });

  it('refuses a body re-serialized from the same JSON (the raw bytes are what is signed)', () => {
    const request = signed();
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(body), null, 1));
    expect(verifySendgridSignature({ ...request, rawBody: reserialized }, options)).toMatchObject({ ok: false, status: 401 });
  });

  it('refuses a signature made with another key', () => {
    const other = createSendgridSigner();
    const { signature } = other.sign(body, nowSeconds);
    expect(verifySendgridSignature({ rawBody: Buffer.from(body), signature, timestamp: nowSeconds }, options)).toEqual({
      ok: false,
      status: 401,
      reason: 'the signature does not match the body and timestamp',
    });
  });

  it('refuses a signature over another timestamp', () => {
    const request = signed(body, String(NOW / 1000 - 1));
    expect(verifySendgridSignature({ ...request, timestamp: nowSeconds }, options)).toMatchObject({ ok: false, status: 401 });
  });

  it.each([
    ['signature', { signature: undefined }],
    ['timestamp', { timestamp: undefined }],
    ['empty signature', { signature: '' }],
  ])('refuses a request without %s with 401', (_name, change) => {
    expect(verifySendgridSignature({ ...signed(), ...change }, options)).toMatchObject({
      ok: false,
      status: 401,
      reason: 'the signature and timestamp headers are required',
    });
  });

  it.each(['not base64!', 'AAAA', 'MEUCIQ'])('refuses a malformed signature %j with 401', (signature) => {
    expect(verifySendgridSignature({ ...signed(), signature }, options)).toMatchObject({ ok: false, status: 401 });
  });

  it.each(['', '12.5', '-5', '1764000000abc', '1e9'])('refuses a timestamp %j that is not Unix seconds with 401', (timestamp) => {
    const request = { ...signed(), timestamp };
    expect(verifySendgridSignature(request, options)).toMatchObject({ ok: false, status: 401 });
  });

  it('refuses a correctly signed but stale timestamp with 403, and accepts one at the edge of the tolerance', () => {
    const stale = signed(body, String(NOW / 1000 - 301));
    expect(verifySendgridSignature(stale, options)).toEqual({ ok: false, status: 403, reason: 'the timestamp is 301 s old' });
    expect(verifySendgridSignature(signed(body, String(NOW / 1000 - 300)), options)).toEqual({ ok: true });
  });

  it('refuses a correctly signed timestamp from the future beyond the tolerance with 403', () => {
    const future = signed(body, String(NOW / 1000 + 301));
    expect(verifySendgridSignature(future, options)).toEqual({ ok: false, status: 403, reason: 'the timestamp is 301 s in the future' });
    expect(verifySendgridSignature(signed(body, String(NOW / 1000 + 300)), options)).toEqual({ ok: true });
  });

  it('uses the clock when no now is given', () => {
    const { signature, timestamp } = signer.sign(body);
    expect(
      verifySendgridSignature({ rawBody: Buffer.from(body), signature, timestamp }, { publicKey: signer.publicKey, toleranceSeconds: 60 }),
    ).toEqual({
      ok: true,
    });
  });

  it('refuses everything, with 401, when the configured key is not an EC public key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    for (const publicKey of ['not a key', rsa]) {
      expect(verifySendgridSignature(signed(), { ...options, publicKey })).toEqual({
        ok: false,
        status: 401,
        reason: 'the configured SendGrid webhook key is not a valid EC public key',
      });
    }
  });
});

describe('parseSendgridPublicKey', () => {
  it('reads the base64 key SendGrid shows and refuses other text', () => {
    expect(parseSendgridPublicKey(signer.publicKey).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(() => parseSendgridPublicKey('bm90IGEga2V5')).toThrow();
  });
});

describe('sendGridProviderConfigSchema webhookPublicKey', () => {
  const entry = { type: 'sendgrid', name: 'sg', apiKey: 'SG.x.y' } as const;

  it('accepts the Verification Key and refuses text that is not an EC public key at load', () => {
    expect(sendGridProviderConfigSchema.parse({ ...entry, webhookPublicKey: signer.publicKey }).webhookPublicKey).toBe(signer.publicKey);
    const refused = sendGridProviderConfigSchema.safeParse({ ...entry, webhookPublicKey: 'paste-key-here' });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]).toMatchObject({ path: ['webhookPublicKey'], message: expect.stringContaining('Verification Key') });
  });
});
