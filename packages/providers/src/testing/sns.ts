import { generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import forge from 'node-forge';
import type { CertificateSource, SnsMessage } from '../ses/sns.js';

export type SnsFields = Omit<SnsMessage, 'Signature' | 'SignatureVersion' | 'SigningCertURL'>;

export interface SnsSigner {
  readonly certificateUrl: string;
  readonly certificatePem: string;
  /** Serves the certificate at `certificateUrl` only; every other URL rejects. */
  readonly certificateSource: CertificateSource;
  /** Every URL the source was asked for, in order. */
  readonly certificateRequests: readonly string[];
  /** Signs like SNS: SignatureVersion 1 is SHA1withRSA, 2 is SHA256withRSA, over the documented string to sign. */
  sign(fields: SnsFields, version: '1' | '2'): SnsMessage;
}

/**
 * An RSA key with a self-signed certificate, standing in for SNS's signing certificate.
 * The string to sign is written here from AWS's documentation, apart from the verifier's,
 * so a mistake in either shows up as a failed verification.
 */
export function createSnsSigner(options: { certificateUrl?: string } = {}): SnsSigner {
  const certificateUrl =
    options.certificateUrl ?? `https://sns.us-east-1.amazonaws.com/SimpleNotificationService-${randomBytes(16).toString('hex')}.pem`;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const certificatePem = selfSignedCertificate(
    privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  );
  const certificateRequests: string[] = [];
  return {
    certificateUrl,
    certificatePem,
    certificateRequests,
    async certificateSource(url) {
      certificateRequests.push(url);
      if (url !== certificateUrl) throw new Error(`no certificate at ${url}`);
      return certificatePem;
    },
    sign(fields, version) {
      const unsigned = { ...fields, SignatureVersion: version, SigningCertURL: certificateUrl };
      const signature = sign(version === '1' ? 'sha1' : 'sha256', Buffer.from(stringToSign(unsigned), 'utf8'), privateKey);
      return { ...unsigned, Signature: signature.toString('base64') };
    },
  };
}

function stringToSign(fields: SnsFields): string {
  const names =
    fields.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  const record: Record<string, string | undefined> = { ...fields };
  return names.map((name) => (record[name] === undefined ? '' : `${name}\n${record[name]}\n`)).join('');
}

function selfSignedCertificate(privateKeyPem: string, publicKeyPem: string): string {
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  // A leading 01 keeps the DER integer positive.
  certificate.serialNumber = `01${randomBytes(15).toString('hex')}`;
  certificate.validity.notBefore = new Date(Date.now() - 24 * 3_600_000);
  certificate.validity.notAfter = new Date(Date.now() + 365 * 24 * 3_600_000);
  const name = [
    { name: 'commonName', value: 'sns.us-east-1.amazonaws.com' },
    { name: 'organizationName', value: 'mailroute tests' },
  ];
  certificate.setSubject(name);
  certificate.setIssuer(name);
  certificate.sign(forge.pki.privateKeyFromPem(privateKeyPem), forge.md.sha256.create());
  return forge.pki.certificateToPem(certificate);
}

/** The fields of an SNS Notification carrying `message` (an SES notification object or text). */
export function snsNotification(topicArn: string, message: unknown, overrides: Partial<SnsFields> = {}): SnsFields {
  const messageId = overrides.MessageId ?? randomUUID();
  return {
    Type: 'Notification',
    MessageId: messageId,
    TopicArn: topicArn,
    Message: typeof message === 'string' ? message : JSON.stringify(message),
    Timestamp: new Date().toISOString(),
    UnsubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${topicArn}:${randomUUID()}`,
    ...overrides,
  };
}

/** The fields of the SubscriptionConfirmation SNS posts when a subscription is created. */
export function snsSubscriptionConfirmation(topicArn: string, overrides: Partial<SnsFields> = {}): SnsFields {
  const token = overrides.Token ?? randomBytes(64).toString('hex');
  return {
    Type: 'SubscriptionConfirmation',
    MessageId: randomUUID(),
    Token: token,
    TopicArn: topicArn,
    Message: `You have chosen to subscribe to the topic ${topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
    SubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${topicArn}&Token=${token}`,
    Timestamp: new Date().toISOString(),
    ...overrides,
  };
}
