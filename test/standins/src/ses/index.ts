export { type SesEmulator, type SesEmulatorOptions, type SesReceivedMail, startSesEmulator } from './emulator.js';
export { type SesFaultProxy, type SesFaultProxyOptions, type SesProxyRequest, startSesFaultProxy } from './fault-proxy.js';
export { type SesFault, type SesFaultName, sesFaults } from './faults.js';
export { FAKE_AUTHORIZATION, type SesQueryOptions, sendRawEmailParams, sesQuery } from './query.js';
export { SES_XMLNS, type SendQuota, type SesErrorAnswer } from './wire.js';
