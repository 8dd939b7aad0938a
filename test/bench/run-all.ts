import { runDashboardBundle } from './dashboard-bundle.js';
import { runDispatch } from './dispatch.js';
import { runFailover } from './failover.js';
import { runHttpSend } from './http-send.js';
import { runPickupLatency } from './pickup-latency.js';
import { runProviderHealth } from './provider-health.js';
import { runQueueMemory } from './queue-memory.js';
import { runRouterOverhead } from './router-overhead.js';
import { runStoreEnqueue } from './store-enqueue.js';
import { runWebhookIngest } from './webhook-ingest.js';

/** Every benchmark, one after the other; each prints its own table. */
await runRouterOverhead();
await runFailover();
await runStoreEnqueue();
await runDispatch();
await runPickupLatency();
await runQueueMemory();
await runHttpSend();
await runWebhookIngest();
await runProviderHealth();
await runDashboardBundle();
