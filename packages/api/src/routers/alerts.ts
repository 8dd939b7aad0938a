import { alertKinds, alertStates } from '@mailroute/store';
import { z } from 'zod';
import { defined } from '../inputs.js';
import { router, scoped } from '../trpc.js';

/** Epoch milliseconds or an ISO 8601 date-time. */
const timeSchema = z.union([z.number().int().min(0).max(8.64e15), z.iso.datetime({ offset: true })]);
const toTime = (value: number | string | undefined) => (typeof value === 'string' ? Date.parse(value) : value);

export const alertsRouter = router({
  /**
   * Alert history, newest first, each incident with its latest notices (channel, ok, error).
   * Incidents carry no message ids or addresses, but they are about the whole service (every
   * tenant's late and dead mail counted together) and the operator's notification channels and
   * their errors: operators only. Pass `nextCursor` back as `cursor`.
   */
  list: scoped('operator')
    .input(
      z
        .strictObject({
          state: z.enum(alertStates).optional(),
          kind: z.enum(alertKinds).optional(),
          /** A provider name, or `*` for the whole service. */
          subject: z.string().min(1).max(200).optional(),
          /** Incidents that started at or after. */
          since: timeSchema.optional(),
          /** Incidents that started before. */
          until: timeSchema.optional(),
          limit: z.number().int().min(1).max(200).optional(),
          cursor: z.string().min(1).max(100).optional(),
        })
        .optional(),
    )
    .query(({ ctx, input = {} }) =>
      ctx.deps.store.listAlerts(defined({ ...input, since: toTime(input.since), until: toTime(input.until) })),
    ),
});
