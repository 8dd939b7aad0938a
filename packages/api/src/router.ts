import { alertsRouter } from './routers/alerts.js';
import { keysRouter } from './routers/keys.js';
import { liveRouter } from './routers/live.js';
import { mailRouter } from './routers/mail.js';
import { providersRouter } from './routers/providers.js';
import { sendersRouter } from './routers/senders.js';
import { sessionRouter } from './routers/session.js';
import { statsRouter } from './routers/stats.js';
import { suppressionsRouter } from './routers/suppressions.js';
import { router } from './trpc.js';

export const appRouter = router({
  mail: mailRouter,
  providers: providersRouter,
  stats: statsRouter,
  suppressions: suppressionsRouter,
  keys: keysRouter,
  alerts: alertsRouter,
  session: sessionRouter,
  live: liveRouter,
  senders: sendersRouter,
});

export type AppRouter = typeof appRouter;
