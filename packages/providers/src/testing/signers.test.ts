import { createPublicKey, verify, X509Certificate } from 'node:crypto';
import { EventWebhook } from '@sendgrid/eventwebhook';
import { describe, expect, it } from 'vitest';
import {
  createSendgridSigner,
  createSnsSigner,
  sendgridEvent,
  sesNotification,
  snsNotification,
  snsSubscriptionConfirmation,
} from './index.js';

describe('createSendgridSigner', () => {
  it('signs so that SendGrid’s own verification library accepts it', () => {
    const signer = createSendgridSigner();
    const body = JSON.stringify([sendgridEvent({ event: 'delivered', mailrouteId: 'm-1', email: 'zoë@example.com' })]);
    const { signature, timestamp } = signer.sign(body, '1700000000');
    const webhook = new EventWebhook();
    const key = webhook.convertPublicKeyToECDSA(signer.publicKey);
    expect(timestamp).toBe('1700000000');
    expect(webhook.verifySignature(key, body, signature, timestamp)).toBe(true);
    expect(webhook.verifySignature(key, `${body} `, signature, timestamp)).toBe(false);
    expect(webhook.verifySignature(key, body, signature, '1700000001')).toBe(false);
  });

  it('shows the key as base64 DER SPKI of a P-256 key and stamps the current time by default', () => {
    const signer = createSendgridSigner();
    const key = createPublicKey({ key: Buffer.from(signer.publicKey, 'base64'), format: 'der', type: 'spki' });
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const { timestamp } = signer.sign('[]');
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(5);
  });
});

describe('sendgridEvent', () => {
  it('builds events with the top-level custom arg and an sg_message_id that starts with the X-Message-Id', () => {
    const event = sendgridEvent({ event: 'bounce', mailrouteId: 'm-1', xMessageId: 'abc123', extra: { type: 'blocked' } });
    expect(event).toMatchObject({ event: 'bounce', mailroute_id: 'm-1', type: 'blocked', bounce_classification: 'Invalid Address' });
    expect(String(event.sg_message_id).split('.')[0]).toBe('abc123');
    expect(sendgridEvent({ event: 'processed' })).not.toHaveProperty('mailroute_id');
  });
});

describe('createSnsSigner', () => {
  const topicArn = 'arn:aws:sns:eu-west-1:123456789012:ses-events';

  it('makes a certificate node:crypto parses, on an SNS host, valid now', () => {
    const signer = createSnsSigner();
    const certificate = new X509Certificate(signer.certificatePem);
    expect(signer.certificateUrl).toMatch(/^https:\/\/sns\.us-east-1\.amazonaws\.com\/SimpleNotificationService-[0-9a-f]{32}\.pem$/);
    expect(certificate.publicKey.asymmetricKeyType).toBe('rsa');
    expect(Date.parse(certificate.validFrom)).toBeLessThan(Date.now());
    expect(Date.parse(certificate.validTo)).toBeGreaterThan(Date.now());
    expect(certificate.verify(certificate.publicKey)).toBe(true);
  });

  it.each([
    ['1', 'sha1'],
    ['2', 'sha256'],
  ] as const)('signs a Notification with version %s over the documented fields (%s)', (version, algorithm) => {
    const signer = createSnsSigner();
    const fields = snsNotification(topicArn, sesNotification({ type: 'Delivery', mailrouteId: 'm-1' }), {
      Subject: 'Amazon SES Email Event',
    });
    const message = signer.sign(fields, version);
    const expected = [
      `Message\n${fields.Message}\n`,
      `MessageId\n${fields.MessageId}\n`,
      'Subject\nAmazon SES Email Event\n',
      `Timestamp\n${fields.Timestamp}\n`,
      `TopicArn\n${topicArn}\n`,
      'Type\nNotification\n',
    ].join('');
    const key = new X509Certificate(signer.certificatePem).publicKey;
    expect(message).toMatchObject({ SignatureVersion: version, SigningCertURL: signer.certificateUrl, TopicArn: topicArn });
    expect(verify(algorithm, Buffer.from(expected), key, Buffer.from(message.Signature, 'base64'))).toBe(true);
    expect(verify(algorithm, Buffer.from(`${expected}x`), key, Buffer.from(message.Signature, 'base64'))).toBe(false);
  });

  it('signs a SubscriptionConfirmation over SubscribeURL and Token', () => {
    const signer = createSnsSigner();
    const fields = snsSubscriptionConfirmation(topicArn);
    const message = signer.sign(fields, '2');
    const expected = [
      `Message\n${fields.Message}\n`,
      `MessageId\n${fields.MessageId}\n`,
      `SubscribeURL\n${fields.SubscribeURL}\n`,
      `Timestamp\n${fields.Timestamp}\n`,
      `Token\n${fields.Token}\n`,
      `TopicArn\n${topicArn}\n`,
      'Type\nSubscriptionConfirmation\n',
    ].join('');
    const key = new X509Certificate(signer.certificatePem).publicKey;
    expect(verify('sha256', Buffer.from(expected), key, Buffer.from(message.Signature, 'base64'))).toBe(true);
  });

  it('serves its certificate at its URL only, and records every request', async () => {
    const signer = createSnsSigner({ certificateUrl: 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem' });
    await expect(signer.certificateSource('https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem')).resolves.toBe(
      signer.certificatePem,
    );
    await expect(signer.certificateSource('https://sns.eu-west-1.amazonaws.com/other.pem')).rejects.toThrow('no certificate');
    expect(signer.certificateRequests).toEqual([
      'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem',
      'https://sns.eu-west-1.amazonaws.com/other.pem',
    ]);
  });
});

describe('sesNotification', () => {
  it('builds event publishing records with our tag and header', () => {
    const record = sesNotification({
      type: 'Bounce',
      recipients: ['a@example.com', 'b@example.com'],
      mailrouteId: 'm-1',
      messageId: 'ses-1',
    });
    expect(record).toMatchObject({
      eventType: 'Bounce',
      mail: { messageId: 'ses-1', destination: ['a@example.com', 'b@example.com'], tags: { mailroute_id: ['m-1'] } },
      bounce: { bounceType: 'Permanent', bouncedRecipients: [{ emailAddress: 'a@example.com' }, { emailAddress: 'b@example.com' }] },
    });
    expect(record.mail).toMatchObject({ headers: expect.arrayContaining([{ name: 'X-Mailroute-Id', value: 'm-1' }]) });
  });

  it('builds classic notifications without tags, and without headers when asked', () => {
    const record = sesNotification({ type: 'Complaint', format: 'notification', includeHeaders: false, mailrouteId: 'm-1' });
    expect(record.notificationType).toBe('Complaint');
    expect(record).not.toHaveProperty('eventType');
    expect(record.mail).not.toHaveProperty('tags');
    expect(record.mail).not.toHaveProperty('headers');
    expect(record).toHaveProperty('complaint.complainedRecipients', [{ emailAddress: 'guest@example.com' }]);
  });
});
