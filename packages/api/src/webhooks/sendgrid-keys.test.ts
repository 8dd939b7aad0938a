import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { verifySendgridSignature } from '@mailroute/providers/sendgrid';
import { createSendgridSigner } from '@mailroute/providers/testing';
import { expect, test } from 'vitest';
import { sendgridVerificationKey } from './sendgrid-keys.js';

const body = Buffer.from('[{"event":"delivered","sg_event_id":"e1"}]');

function verify(signer: ReturnType<typeof createSendgridSigner>, key: KeyObject | string) {
  const { signature, timestamp } = signer.sign(body);
  return verifySendgridSignature({ rawBody: body, signature, timestamp }, { publicKey: key, toleranceSeconds: 300 });
}

test('a configured key is parsed once and verifies what its private key signed', () => {
  const signer = createSendgridSigner();
  const key = sendgridVerificationKey(signer.publicKey);
  expect(key).toBeInstanceOf(KeyObject);
  expect(sendgridVerificationKey(signer.publicKey)).toBe(key);
  // Surrounding blanks from a YAML block are a different text, the same key.
  expect(sendgridVerificationKey(`\n${signer.publicKey}\n`)).not.toBe(key);
  expect(verify(signer, key)).toEqual({ ok: true });
});

test('a rotated key is a new entry: the new signatures verify, the old key refuses them', () => {
  const before = createSendgridSigner();
  const after = createSendgridSigner();
  const oldKey = sendgridVerificationKey(before.publicKey);
  const newKey = sendgridVerificationKey(after.publicKey);
  expect(newKey).not.toBe(oldKey);
  expect(verify(after, newKey)).toEqual({ ok: true });
  expect(verify(after, oldKey)).toMatchObject({ ok: false, status: 401 });
});

test('a key that does not parse is handed back as text and the verifier refuses the request', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  for (const text of ['not a key', rsa]) {
    expect(sendgridVerificationKey(text)).toBe(text);
    expect(verify(createSendgridSigner(), sendgridVerificationKey(text))).toEqual({
      ok: false,
      status: 401,
      reason: 'the configured SendGrid webhook key is not a valid EC public key',
    });
  }
});

test('the cache stays bounded: after many other keys the first is parsed again and still verifies', () => {
  const first = createSendgridSigner();
  const firstKey = sendgridVerificationKey(first.publicKey);
  for (let index = 0; index < 70; index += 1) sendgridVerificationKey(createSendgridSigner().publicKey);
  const again = sendgridVerificationKey(first.publicKey);
  expect(again).not.toBe(firstKey);
  expect(verify(first, again)).toEqual({ ok: true });
});
