export { type SmtpProviderConfig, type SmtpProviderConfigInput, smtpProviderConfigSchema } from './config.js';
export { envelopeOf, METADATA_HEADER_PREFIX, messageIdFor, TAG_HEADER, toMailOptions } from './converter.js';
export { classifySmtpError, DEFAULT_RATE_LIMIT_RETRY_MS, type SmtpErrorLike, type SmtpFailureContext } from './errors.js';
export { createSmtpProvider } from './provider.js';
