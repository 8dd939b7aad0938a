export { ConfigError, interpolateEnv, loadConfigFile, parseConfig } from './config/load.js';
export {
  configSchema,
  type MailrouteConfig,
  type MailrouteConfigInput,
  type ProviderConfig,
  providerConfigSchema,
} from './config/schema.js';
export { createLogger, logRouterEvents } from './logging.js';
export { createProvider } from './worker/providers.js';
export { buildRouter } from './worker/router.js';
export { startWorker, type Worker, type WorkerOptions } from './worker/worker.js';
