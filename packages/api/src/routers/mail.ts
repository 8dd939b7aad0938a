import {
  type DeliveryEventType,
  type FieldIssue,
  type MessageContent,
  parseMessage,
  parseSearchQuery,
  SEARCH_QUERY_MAX_LENGTH,
  type SearchQuery,
} from '@mailroute/core';
import type { ApiKeyRecord, AttemptView, EventEffect, EventView, MessageDetail, MessageFilter, TransitionView } from '@mailroute/store';
import { EXPORT_PAGE_MAX, type ExportRow } from '@mailroute/store';
import { z } from 'zod';
import type { ApiDependencies } from '../context.js';
import { ApiFault, apiError, faultFromMailError, rateLimitedError } from '../errors.js';
import { exportCsv } from '../export-format.js';
import { batchInput, defined, type FilterInput, filterSchema, idSchema, listSchema, messageInput, retrySchema } from '../inputs.js';
import { senderFault } from '../sender-check.js';
import { unstorableTextFault } from '../text-guard.js';
import { authorized, router, scoped } from '../trpc.js';

export type BatchResult =
  | { readonly ok: true; readonly id: string; readonly status: string; readonly duplicate: boolean }
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string; readonly issues: readonly FieldIssue[] } };

export type TimelineEntry =
  | { readonly at: number; readonly kind: 'status'; readonly from?: string; readonly to: string; readonly reason: string }
  | {
      readonly at: number;
      readonly kind: 'attempt';
      readonly attemptId: string;
      /** Absent when the attempt's outcome is unknown and so is its provider (a worker died mid-send). */
      readonly provider?: string;
      readonly summary: string;
    }
  | {
      /** When the provider says it happened. */
      readonly at: number;
      readonly kind: 'event';
      readonly type: DeliveryEventType;
      readonly provider: string;
      readonly recipient?: string;
      readonly reason?: string;
      /** The attempt that produced it. */
      readonly attemptId?: string;
      /** Whether it moved the status (applied) or was only kept (recorded, engagement). */
      readonly effect: EventEffect;
    };

function toFilter(input: FilterInput = {}): MessageFilter {
  const { status, ...rest } = input;
  return defined({ ...rest, status: typeof status === 'string' ? [status] : status });
}

function attemptSummary(attempt: AttemptView): string {
  if (attempt.outcome === 'accepted') return `accepted as ${attempt.providerMessageId ?? '?'} in ${attempt.latencyMs} ms`;
  if (attempt.outcome === 'unknown') return `outcome unknown (possible duplicate): ${attempt.errorMessage ?? ''}`.trimEnd();
  const status = attempt.statusCode === undefined ? '' : ` (${attempt.statusCode})`;
  return `${attempt.errorCode ?? 'failed'}${status} in ${attempt.latencyMs} ms: ${attempt.errorMessage ?? ''}`.trimEnd();
}

/** Status changes, provider calls and provider events in one list, oldest first: the message's story for a person. */
function timelineOf(detail: {
  readonly transitions: readonly TransitionView[];
  readonly attempts: readonly AttemptView[];
  readonly events: readonly EventView[];
}): TimelineEntry[] {
  const { transitions, attempts, events } = detail;
  const entries: TimelineEntry[] = [
    ...transitions.map((step) => ({
      at: step.at,
      kind: 'status' as const,
      ...(step.from === undefined ? {} : { from: step.from }),
      to: step.to,
      reason: step.reason,
    })),
    ...attempts.map((attempt) => ({
      at: attempt.startedAt,
      kind: 'attempt' as const,
      attemptId: attempt.id,
      ...(attempt.provider === undefined ? {} : { provider: attempt.provider }),
      summary: attemptSummary(attempt),
    })),
    ...events.map((event) => ({
      at: event.occurredAt,
      kind: 'event' as const,
      type: event.type,
      provider: event.provider,
      ...(event.recipient === undefined ? {} : { recipient: event.recipient }),
      ...(event.reason === undefined ? {} : { reason: event.reason }),
      ...(event.attemptId === undefined ? {} : { attemptId: event.attemptId }),
      effect: event.effect,
    })),
  ];
  return entries.sort((a, b) => a.at - b.at);
}

function suppressionFault(content: MessageContent, suppressed: ReadonlySet<string>): ApiFault | undefined {
  const issues: FieldIssue[] = [];
  const addresses = new Set<string>();
  for (const field of ['to', 'cc', 'bcc'] as const) {
    content[field].forEach((address, index) => {
      if (!suppressed.has(address.email.toLowerCase())) return;
      addresses.add(address.email);
      issues.push({ path: `${field}.${index}.email`, message: `${address.email} is on the suppression list` });
    });
  }
  if (issues.length === 0) return undefined;
  return new ApiFault('RECIPIENT_SUPPRESSED', `recipients on the suppression list: ${[...addresses].join(', ')}`, issues);
}

/** A search query (`parseSearchQuery`) as the API's INVALID_INPUT at `q`; relative times are from the API's clock. */
export function parseQueryInput(q: string, now: number): SearchQuery {
  const parsed = parseSearchQuery(q, now);
  if (!parsed.ok) throw apiError('INVALID_INPUT', `invalid search query: ${parsed.message}`, [{ path: 'q', message: parsed.message }]);
  return parsed.query;
}

const searchSchema = z.strictObject({
  /** The search language: `to:` `from:` `subject:` `status:` `provider:` `tag:` `key:` `id:` `before:` `after:`, `-` to exclude, "phrases", bare words. */
  q: z.string().max(SEARCH_QUERY_MAX_LENGTH).default(''),
  cursor: z.string().min(1).max(500).optional(),
  limit: z.number().int().min(1).max(500).optional(),
});

/** The same key with other content: refused, naming the message the key belongs to. */
function idempotencyConflict(key: string | undefined, originalId: string): ApiFault {
  const message = `idempotency key ${JSON.stringify(key)} was used for message ${originalId} with different content`;
  return new ApiFault('IDEMPOTENCY_CONFLICT', message, [{ path: 'idempotencyKey', message }]);
}

const exportSchema = filterSchema.extend({
  /** A search query instead of the filter fields (not both). */
  q: z.string().max(SEARCH_QUERY_MAX_LENGTH).optional(),
  format: z.enum(['csv', 'json']).default('csv'),
  cursor: z.string().min(1).max(500).optional(),
  limit: z.number().int().min(1).max(EXPORT_PAGE_MAX).optional(),
});

/** One page of an export; the CSV of the first page (no cursor) starts with the header line. */
export type ExportResult = (
  | { readonly format: 'csv'; readonly csv: string; readonly count: number }
  | { readonly format: 'json'; readonly rows: readonly ExportRow[]; readonly count: number }
) & { readonly nextCursor?: string };

/** Every message submitted counts against the key's message limit, a batch as many as it holds; refused whole, nothing stored. */
function chargeMessages(ctx: { readonly deps: ApiDependencies; readonly key: ApiKeyRecord }, messages: number): void {
  const refusal = ctx.deps.messageQuota?.take(ctx.key.id, messages);
  if (refusal) throw rateLimitedError(refusal.message, refusal.retryAfterSeconds);
}

export const mailRouter = router({
  /** Stores one message; answers only after the commit. A repeated idempotency key answers the first message. */
  send: scoped('send')
    .input(messageInput)
    .mutation(async ({ ctx, input }) => {
      chargeMessages(ctx, 1);
      const fault =
        senderFault(input, await ctx.senders.policy(ctx.tenantId), ctx.tenantId) ??
        suppressionFault(input, await ctx.suppressions.suppressedRecipients([input], ctx.tenantId));
      if (fault) throw fault;
      const { conflict, ...result } = await ctx.deps.store.enqueue(input, { tenantId: ctx.tenantId });
      if (conflict) throw idempotencyConflict(input.idempotencyKey, result.id);
      return result;
    }),

  /** Up to 1,000 messages; one result per message, in order. The valid ones are stored in one transaction. */
  sendBatch: authorized('send')
    .input(batchInput)
    .mutation(async ({ ctx, input }): Promise<BatchResult[]> => {
      chargeMessages(ctx, input.messages.length);
      const senders = await ctx.senders.policy(ctx.tenantId);
      const parsed = input.messages.map((raw) => {
        const unstorable = unstorableTextFault(raw);
        if (unstorable) return unstorable;
        const result = parseMessage(raw);
        if (!result.ok) return faultFromMailError(result.error);
        return senderFault(result.value, senders, ctx.tenantId) ?? result.value;
      });
      const valid = parsed.filter((outcome): outcome is MessageContent => !(outcome instanceof ApiFault));
      const suppressed = await ctx.suppressions.suppressedRecipients(valid, ctx.tenantId);
      const outcomes = parsed.map((outcome) =>
        outcome instanceof ApiFault ? outcome : (suppressionFault(outcome, suppressed) ?? outcome),
      );
      const accepted = outcomes.filter((outcome): outcome is MessageContent => !(outcome instanceof ApiFault));
      const stored = await ctx.deps.store.enqueueMany(accepted, { tenantId: ctx.tenantId });
      let next = 0;
      return outcomes.map((outcome): BatchResult => {
        if (outcome instanceof ApiFault) {
          return { ok: false, error: { code: outcome.code, message: outcome.message, issues: outcome.issues } };
        }
        const entry = stored[next++];
        if (!entry) throw new Error('the store answered fewer results than messages');
        const { conflict, ...result } = entry;
        if (conflict) {
          const fault = idempotencyConflict(outcome.idempotencyKey, result.id);
          return { ok: false, error: { code: fault.code, message: fault.message, issues: fault.issues } };
        }
        return { ok: true, ...result };
      });
    }),

  /** One message with its attempts, status changes and provider events, merged into a timeline. Another tenant's id is NOT_FOUND. */
  get: scoped('read')
    .input(z.strictObject({ id: idSchema }))
    .query(async ({ ctx, input }): Promise<MessageDetail & { timeline: TimelineEntry[] }> => {
      const detail = await ctx.deps.store.getMessage(input.id, { tenantId: ctx.tenantId });
      if (!detail) throw apiError('NOT_FOUND', `no message with id ${input.id}`);
      return { ...detail, timeline: timelineOf(detail) };
    }),

  /** Newest first; pass `nextCursor` back as `cursor` for the next page. */
  list: scoped('read')
    .input(listSchema.optional())
    .query(({ ctx, input = {} }) => {
      const { cursor, limit, ...filter } = input;
      return ctx.deps.store.listMessages({ ...toFilter(filter), tenantId: ctx.tenantId }, defined({ cursor, limit }));
    }),

  /**
   * Messages matching a search query (the language the console and `mailroute list` share),
   * newest first, without bodies; pass `nextCursor` back as `cursor` for the next page. A query
   * that cannot be read is INVALID_INPUT at `q`, naming what is valid.
   */
  search: scoped('read')
    .input(searchSchema)
    .query(({ ctx, input }) => {
      const query = parseQueryInput(input.q, ctx.now());
      return ctx.deps.store.searchMessages(defined({ query, tenantId: ctx.tenantId, cursor: input.cursor, limit: input.limit }));
    }),

  /**
   * The messages `list` (or, with `q`, `search`) would show, as rows for customer support (CSV
   * or JSON), newest first, a page at a time: pass `nextCursor` back until it is absent. Pages
   * concatenate into one file.
   */
  export: scoped('read')
    .input(exportSchema.optional())
    .query(async ({ ctx, input = { format: 'csv' as const } }): Promise<ExportResult> => {
      const { format, cursor, limit, q, ...filter } = input;
      if (q !== undefined && Object.keys(defined(filter)).length > 0) {
        throw apiError('INVALID_INPUT', 'give either q or the filter fields, not both', [{ path: 'q', message: 'not with filter fields' }]);
      }
      const page =
        q === undefined
          ? await ctx.deps.store.exportMessages({ ...toFilter(filter), tenantId: ctx.tenantId }, defined({ cursor, limit }))
          : await ctx.deps.store.exportSearch(defined({ query: parseQueryInput(q, ctx.now()), tenantId: ctx.tenantId, cursor, limit }));
      const next = page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor };
      return format === 'csv'
        ? { format, csv: exportCsv(page.rows, cursor === undefined), count: page.rows.length, ...next }
        : { format, rows: page.rows, count: page.rows.length, ...next };
    }),

  /**
   * Requeues failed, dead or cancelled mail by ids or filter, keeping back what must not go out
   * again (a recipient suppressed since, a sender no longer allowed, a provider that already has
   * it); the report says what
   * was (dry run: would be) requeued and what was kept back and why. Repeating it does nothing.
   */
  retry: scoped('admin')
    .input(retrySchema)
    .mutation(async ({ ctx, input }) => {
      const who = `by API key ${ctx.key.prefix}`;
      const senders = await ctx.senders.policy(ctx.tenantId);
      const report = await ctx.deps.store.retryMessages({
        target: input.ids ? { ids: input.ids } : { filter: toFilter(input.filter) },
        tenantId: ctx.tenantId,
        senderAllowed: (email) => !senderFault({ from: { email } }, senders, ctx.tenantId),
        dryRun: input.dryRun,
        reason: input.reason ? `${input.reason} (${who})` : who,
      });
      if (!report.dryRun && report.requeued > 0) ctx.deps.wake?.();
      return report;
    }),

  /** Stops mail no provider has been handed yet (queued, scheduled, retrying). */
  cancel: scoped('send')
    .input(z.strictObject({ id: idSchema, reason: z.string().min(1).max(500).optional() }))
    .mutation(async ({ ctx, input }) => {
      const who = `by API key ${ctx.key.prefix}`;
      const { previous } = await ctx.deps.store.cancel(input.id, {
        tenantId: ctx.tenantId,
        reason: input.reason ? `${input.reason} (${who})` : who,
      });
      return { id: input.id, previous, status: 'cancelled' as const };
    }),
});
