import { runFailover } from './failover.js';
import { runRouterOverhead } from './router-overhead.js';

/** Every benchmark, one after the other; each prints its own table. */
await runRouterOverhead();
await runFailover();
