export { type CaptureProviderConfig, type CaptureProviderConfigInput, captureProviderConfigSchema } from './config.js';
export { type CapturedMessage, type CaptureRecord, toCaptureRecord, toMime } from './converter.js';
export { classifyCaptureError } from './errors.js';
export { type CaptureProvider, createCaptureProvider } from './provider.js';
