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
