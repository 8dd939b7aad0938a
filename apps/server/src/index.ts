export { type CliIo, EXIT_OK, EXIT_RUNTIME, EXIT_USAGE } from './cli/io.js';
export { runCli, USAGE } from './cli/main.js';
export { CAPTURE_FALLBACK_DIRECTORY, withCaptureFallback } from './config/capture-fallback.js';
export { ConfigError, interpolateEnv, loadConfigFile, parseConfig } from './config/load.js';
export {
  configSchema,
  DEFAULT_BODY_LIMIT_BYTES,
  longestSendMs,
  type MailrouteConfig,
  type MailrouteConfigInput,
  type ProviderConfig,
  providerConfigSchema,
} from './config/schema.js';
export { type ConfigSource, DEFAULT_CONFIG_FILES, type LoadedConfig, readConfig, resolveConfigSource } from './config/source.js';
export { createHttpApp, type HttpAppOptions } from './http/app.js';
export { createLogger, logOutcome, logRouterEvents } from './logging.js';
export { ensureFirstAdminKey } from './runtime/admin-key.js';
export type { ReloadResult } from './runtime/reload.js';
export { type Role, roles, type Service, type ServiceOptions, startService } from './runtime/service.js';
export { createProvider } from './worker/providers.js';
export { buildRouter } from './worker/router.js';
export { startWorker, type Worker, type WorkerOptions } from './worker/worker.js';
