export {
  SENDGRID_EU_URL,
  SENDGRID_GLOBAL_URL,
  type SendGridProviderConfig,
  type SendGridProviderConfigInput,
  sendGridProviderConfigSchema,
} from './config.js';
export {
  encodeHeaderValue,
  type SendGridAddress,
  type SendGridAttachment,
  type SendGridMailBody,
  type SendGridSendOptions,
  toSendGridMail,
} from './converter.js';
export { classifySendGridError, type SendGridFailureContext, type SendGridResponse } from './errors.js';
export { createSendGridProvider, type SendGridProviderDeps } from './provider.js';
export { parseSendgridEvents, SENDGRID_PROVIDER_TYPE } from './webhook-events.js';
export {
  isSendgridPublicKey,
  parseSendgridPublicKey,
  SENDGRID_SIGNATURE_HEADER,
  SENDGRID_TIMESTAMP_HEADER,
  verifySendgridSignature,
  type WebhookVerdict,
} from './webhook-signature.js';
