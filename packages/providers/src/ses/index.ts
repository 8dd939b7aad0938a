export { type SesProviderConfig, type SesProviderConfigInput, sesProviderConfigSchema } from './config.js';
export { buildMime, MAX_SES_TAGS, messageTags, type SesConvertOptions, type SesSendRequest, toSendRawEmailInput } from './converter.js';
export { classifySesError, DAILY_QUOTA_RETRY_MS, type SesFailureContext, THROTTLE_RETRY_MS } from './errors.js';
export { createSesProvider } from './provider.js';
export {
  type CertificateSource,
  httpsCertificateSource,
  isSnsCertificateUrl,
  type SnsMessage,
  type SnsVerdict,
  verifySnsMessage,
} from './sns.js';
export { parseSesNotification, SES_PROVIDER_TYPE } from './webhook-events.js';
