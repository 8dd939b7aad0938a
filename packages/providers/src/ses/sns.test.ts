import { generateKeyPairSync } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSnsSigner, sesNotification, snsNotification, snsSubscriptionConfirmation } from '../testing/index.js';
import { type CertificateSource, httpsCertificateSource, isSnsCertificateUrl, verifySnsMessage } from './sns.js';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:mailroute-ses-events';
const OTHER_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:other';
const signer = createSnsSigner();
const options = { allowedTopicArns: [TOPIC, OTHER_TOPIC], certificateSource: signer.certificateSource };

function notification(overrides: Parameters<typeof snsNotification>[2] = {}) {
  return snsNotification(TOPIC, sesNotification({ type: 'Delivery', mailrouteId: 'm-1' }), overrides);
}

/** Wraps a source to count how often it is asked. */
function counting(source: CertificateSource): CertificateSource & { calls: string[] } {
  const calls: string[] = [];
  return Object.assign(
    (url: string) => {
      calls.push(url);
      return source(url);
    },
    { calls },
  );
}

describe('verifySnsMessage', () => {
  it.each(['1', '2'] as const)('accepts a Notification signed with SignatureVersion %s, and returns it', async (version) => {
    const message = signer.sign(notification(), version);
    await expect(verifySnsMessage(JSON.parse(JSON.stringify(message)), options)).resolves.toEqual({ ok: true, message });
  });

  it('accepts a Notification with a Subject, which is signed too', async () => {
    const message = signer.sign(notification({ Subject: 'Amazon SES Email Event Notification' }), '2');
    await expect(verifySnsMessage(message, options)).resolves.toMatchObject({ ok: true });
    await expect(verifySnsMessage({ ...message, Subject: 'Other' }, options)).resolves.toMatchObject({ ok: false, status: 401 });
    const { Subject: _dropped, ...withoutSubject } = message;
    await expect(verifySnsMessage(withoutSubject, options)).resolves.toMatchObject({ ok: false, status: 401 });
  });

  it.each(['1', '2'] as const)('accepts a SubscriptionConfirmation and an UnsubscribeConfirmation (version %s)', async (version) => {
    const confirmation = signer.sign(snsSubscriptionConfirmation(TOPIC), version);
    await expect(verifySnsMessage(confirmation, options)).resolves.toEqual({ ok: true, message: confirmation });
    const unsubscribe = signer.sign(snsSubscriptionConfirmation(TOPIC, { Type: 'UnsubscribeConfirmation' }), version);
    await expect(verifySnsMessage(unsubscribe, options)).resolves.toMatchObject({ ok: true });
  });

  it('refuses a confirmation whose SubscribeURL or Token was swapped', async () => {
    const confirmation = signer.sign(snsSubscriptionConfirmation(TOPIC), '2');
    const evilUrl = { ...confirmation, SubscribeURL: 'https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=evil' };
    await expect(verifySnsMessage(evilUrl, options)).resolves.toMatchObject({ ok: false, status: 401 });
    await expect(verifySnsMessage({ ...confirmation, Token: 'evil' }, options)).resolves.toMatchObject({ ok: false, status: 401 });
  });

  it.each([
    ['Message', { Message: JSON.stringify(sesNotification({ type: 'Bounce', mailrouteId: 'm-1' })) }],
    ['MessageId', { MessageId: '00000000-0000-0000-0000-000000000000' }],
    ['Timestamp', { Timestamp: '2020-01-01T00:00:00.000Z' }],
    ['TopicArn (to another allowed topic)', { TopicArn: OTHER_TOPIC }],
    ['Type', { Type: 'SubscriptionConfirmation' }],
    ['SignatureVersion (a v1 signature presented as v2)', { SignatureVersion: '1' }],
  ])('refuses a message whose %s was changed after signing with 401', async (_field, change) => {
    const message = signer.sign(notification(), '2');
    await expect(verifySnsMessage({ ...message, ...change }, options)).resolves.toEqual({
      ok: false,
      status: 401,
      reason: 'SNS signature does not match the message',
    });
  });

  it('refuses a signature made with another key behind the trusted certificate URL', async () => {
    const forger = createSnsSigner({ certificateUrl: signer.certificateUrl });
    const message = forger.sign(notification(), '2');
    await expect(verifySnsMessage(message, options)).resolves.toMatchObject({ ok: false, status: 401 });
  });

  it.each(['', 'not base64 at all!', 'AAAA'])('refuses the malformed signature %j with 401', async (signature) => {
    const message = { ...signer.sign(notification(), '1'), Signature: signature };
    const verdict = await verifySnsMessage(message, options);
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.status).toBe(signature === '' ? 400 : 401);
  });

  it('refuses a topic that is not configured with 403 without fetching the certificate', async () => {
    const source = counting(signer.certificateSource);
    const message = signer.sign(snsNotification('arn:aws:sns:eu-west-1:999999999999:intruder', {}), '2');
    await expect(verifySnsMessage(message, { allowedTopicArns: [TOPIC], certificateSource: source })).resolves.toEqual({
      ok: false,
      status: 403,
      reason: 'topic arn:aws:sns:eu-west-1:999999999999:intruder is not configured for any SES provider',
    });
    expect(source.calls).toEqual([]);
  });

  it.each([
    'http://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem',
    'https://sns.us-east-1.amazonaws.com.evil.com/SimpleNotificationService-abc.pem',
    'https://evil.com/sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem',
    'https://evil.com/?sns.us-east-1.amazonaws.com/x.pem',
    'https://sns.us-east-1.amazonaws.com@evil.com/SimpleNotificationService-abc.pem',
    'https://evil.com@sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem',
    'https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-abc.pem',
    'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem?redirect=https://evil.com/x.pem',
    'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.txt',
    'https://SNS.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem',
    'https://sns.us-east-1.amazonaws.com\\@evil.com/x.pem',
    'https://evilsns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem',
    'https://s3.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem',
    'https://sns.us-east-1.amazonaws.com./SimpleNotificationService-abc.pem',
    'file:///etc/passwd.pem',
    'not a url',
  ])('refuses the certificate URL %s with 403 without fetching it', async (certificateUrl) => {
    // The check comes before any signature work, so the rest of the message may be genuine.
    const source = counting(signer.certificateSource);
    const message = { ...signer.sign(notification(), '2'), SigningCertURL: certificateUrl };
    await expect(verifySnsMessage(message, { allowedTopicArns: [TOPIC], certificateSource: source })).resolves.toMatchObject({
      ok: false,
      status: 403,
    });
    expect(source.calls).toEqual([]);
  });

  it.each([
    ['no body', undefined, 'body: '],
    ['a string', 'Type=Notification', 'body: '],
    ['no Signature', { Signature: undefined }, 'Signature: '],
    ['a numeric MessageId', { MessageId: 42 }, 'MessageId: '],
    ['an unknown Type', { Type: 'Broadcast' }, 'Type: '],
    ['no SigningCertURL', { SigningCertURL: undefined }, 'SigningCertURL: '],
    ['SignatureVersion 3', { SignatureVersion: '3' }, 'SignatureVersion 3 is not supported'],
  ])('refuses %s with 400 naming the field', async (_name, change, reason) => {
    const source = counting(signer.certificateSource);
    const body = change === undefined || typeof change === 'string' ? change : { ...signer.sign(notification(), '2'), ...change };
    const verdict = await verifySnsMessage(body, { ...options, certificateSource: source });
    expect(verdict).toMatchObject({ ok: false, status: 400 });
    expect(!verdict.ok && verdict.reason.startsWith(reason)).toBe(true);
    expect(source.calls).toEqual([]);
  });

  it('fetches the certificate from the message’s SigningCertURL', async () => {
    const source = counting(signer.certificateSource);
    await verifySnsMessage(signer.sign(notification(), '1'), { ...options, certificateSource: source });
    expect(source.calls).toEqual([signer.certificateUrl]);
  });

  it('refuses with 401 when the certificate source serves something that is not a certificate', async () => {
    const message = signer.sign(notification(), '2');
    await expect(verifySnsMessage(message, { ...options, certificateSource: async () => '<html>hello</html>' })).resolves.toEqual({
      ok: false,
      status: 401,
      reason: 'the signing certificate is not a valid X.509 certificate',
    });
  });

  it('refuses with 401 when the certificate has expired or is not valid yet', async () => {
    const message = signer.sign(notification(), '2');
    const inTwoYears = Date.now() + 2 * 365 * 24 * 3_600_000;
    const twoDaysAgo = Date.now() - 2 * 24 * 3_600_000;
    for (const at of [inTwoYears, twoDaysAgo]) {
      await expect(verifySnsMessage(message, { ...options, now: () => at })).resolves.toEqual({
        ok: false,
        status: 401,
        reason: 'the signing certificate is not valid at this time',
      });
    }
  });

  it('rejects when the certificate cannot be obtained, so the caller answers 5xx and SNS retries', async () => {
    const message = signer.sign(notification(), '2');
    const unreachable: CertificateSource = async () => {
      throw new Error('connect ETIMEDOUT');
    };
    await expect(verifySnsMessage(message, { ...options, certificateSource: unreachable })).rejects.toThrow('ETIMEDOUT');
  });
});

describe('isSnsCertificateUrl', () => {
  it.each([
    'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem',
    'https://sns.eu-central-2.amazonaws.com/SimpleNotificationService-abc.pem',
    'https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-abc.pem',
    'https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem',
    'https://sns.ap-southeast-3.amazonaws.com/SimpleNotificationService-abc.pem',
  ])('accepts %s', (url) => {
    expect(isSnsCertificateUrl(url)).toBe(true);
  });
});

/** A key and certificate for 127.0.0.1, made like the SNS signer's, for a local TLS server. */
function localhostCertificate(): { key: string; cert: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  certificate.serialNumber = '01';
  certificate.validity.notBefore = new Date(Date.now() - 3_600_000);
  certificate.validity.notAfter = new Date(Date.now() + 3_600_000);
  const name = [{ name: 'commonName', value: '127.0.0.1' }];
  certificate.setSubject(name);
  certificate.setIssuer(name);
  certificate.setExtensions([{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }]);
  certificate.sign(forge.pki.privateKeyFromPem(key), forge.md.sha256.create());
  return { key, cert: forge.pki.certificateToPem(certificate) };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

describe('httpsCertificateSource', () => {
  const tls = localhostCertificate();
  const hits: string[] = [];
  let stallResponse = false;
  const server = createHttpsServer(tls, (request, response) => {
    hits.push(request.url ?? '');
    if (request.url === '/slow.pem') return; // never answers
    if (request.url === '/huge.pem') {
      response.end('x'.repeat(200 * 1024));
      return;
    }
    if (request.url === '/moved.pem') {
      response.writeHead(302, { location: '/cert.pem' }).end();
      return;
    }
    if (request.url !== '/cert.pem' || stallResponse) {
      response.writeHead(404).end('not found');
      return;
    }
    response.end(signer.certificatePem);
  });
  const plain = createHttpServer((request, response) => {
    hits.push(`plain ${request.url}`);
    response.end(signer.certificatePem);
  });
  let base = '';
  let plainBase = '';

  beforeAll(async () => {
    base = `https://127.0.0.1:${await listen(server)}`;
    plainBase = `http://127.0.0.1:${await listen(plain)}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await new Promise((resolve) => plain.close(resolve));
  });

  it('fetches a certificate over https once and serves it from its cache after', async () => {
    hits.length = 0;
    const source = httpsCertificateSource({ ca: tls.cert });
    await expect(source(`${base}/cert.pem`)).resolves.toBe(signer.certificatePem);
    await expect(source(`${base}/cert.pem`)).resolves.toBe(signer.certificatePem);
    expect(hits).toEqual(['/cert.pem']);
  });

  it('shares one request between concurrent callers', async () => {
    hits.length = 0;
    const source = httpsCertificateSource({ ca: tls.cert });
    const answers = await Promise.all([source(`${base}/cert.pem`), source(`${base}/cert.pem`), source(`${base}/cert.pem`)]);
    expect(answers).toEqual([signer.certificatePem, signer.certificatePem, signer.certificatePem]);
    expect(hits).toEqual(['/cert.pem']);
  });

  it('refuses a URL that is not https without making a request', async () => {
    hits.length = 0;
    const source = httpsCertificateSource();
    await expect(source(`${plainBase}/cert.pem`)).rejects.toThrow('refusing to fetch a certificate over http:');
    expect(hits).toEqual([]);
  });

  it('does not cache a failure: the next call asks again', async () => {
    hits.length = 0;
    stallResponse = true;
    const source = httpsCertificateSource({ ca: tls.cert });
    await expect(source(`${base}/cert.pem`)).rejects.toThrow('answered 404');
    stallResponse = false;
    await expect(source(`${base}/cert.pem`)).resolves.toBe(signer.certificatePem);
    expect(hits).toEqual(['/cert.pem', '/cert.pem']);
  });

  it('does not follow redirects', async () => {
    hits.length = 0;
    const source = httpsCertificateSource({ ca: tls.cert });
    await expect(source(`${base}/moved.pem`)).rejects.toThrow('answered 302');
    expect(hits).toEqual(['/moved.pem']);
  });

  it('refuses a server whose certificate is not trusted', async () => {
    await expect(httpsCertificateSource()(`${base}/cert.pem`)).rejects.toThrow(/self[- ]signed/);
  });

  it('gives up on an answer that is too large or too slow', async () => {
    const source = httpsCertificateSource({ ca: tls.cert, timeoutMs: 300 });
    await expect(source(`${base}/huge.pem`)).rejects.toThrow('more than 65536 bytes');
    await expect(source(`${base}/slow.pem`)).rejects.toThrow('took longer than 300 ms');
  });
});
