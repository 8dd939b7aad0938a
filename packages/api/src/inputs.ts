import { type MessageContent, type MessageInput, messageStatuses, parseMessage } from '@mailroute/core';
import { z } from 'zod';
import { faultFromMailError } from './errors.js';

/**
 * A tRPC input parser from a plain function, typed for the client as `In`: mail is checked
 * by core's `parseMessage` (the rules live there), so its errors keep core's field paths.
 */
function parser<In, Out>(parse: (value: unknown) => Out): { _input: In; _output: Out; parse: (value: unknown) => Out } {
  return { _input: undefined as In, _output: undefined as Out, parse };
}

export const messageInput = parser<MessageInput, MessageContent>((value) => {
  const parsed = parseMessage(value);
  if (!parsed.ok) throw faultFromMailError(parsed.error);
  return parsed.value;
});

export const MAX_BATCH = 1000;
const batchShape = z.strictObject({ messages: z.array(z.unknown()).min(1).max(MAX_BATCH) });

/** The batch's shape only: each message is checked on its own so one bad message fails alone. */
export const batchInput = parser<{ messages: MessageInput[] }, { messages: unknown[] }>((value) => batchShape.parse(value));

export const idSchema = z.string().min(1).max(100);
/** A tenant is named by its keys; any id the store accepts. */
export const tenantIdSchema = z.string().min(1).max(100);

/** Epoch milliseconds or an ISO 8601 date-time. */
const timeSchema = z.union([z.number().int().min(0).max(8.64e15), z.iso.datetime({ offset: true })]);
const statusSchema = z.enum(messageStatuses);

export const filterSchema = z.strictObject({
  status: z
    .union([statusSchema, z.array(statusSchema).min(1).max(messageStatuses.length)], {
      error: `must be one of ${messageStatuses.join(', ')}, or a list of them`,
    })
    .optional(),
  /** Sent through, or attempted on, this provider. */
  provider: z.string().min(1).max(200).optional(),
  /** Any of to, cc, bcc; case-insensitive. */
  recipient: z.string().min(1).max(320).optional(),
  tag: z.string().min(1).max(255).optional(),
  /** Accepted at or after. */
  createdFrom: timeSchema.optional(),
  /** Accepted before. */
  createdTo: timeSchema.optional(),
});

export type FilterInput = z.output<typeof filterSchema>;

export const listSchema = filterSchema.extend({
  cursor: z.string().min(1).max(500).optional(),
  limit: z.number().int().min(1).max(500).optional(),
});

export const retrySchema = z
  .strictObject({
    ids: z.array(idSchema).min(1).max(10_000).optional(),
    filter: filterSchema.optional(),
    dryRun: z.boolean().default(false),
    reason: z.string().min(1).max(500).optional(),
  })
  .refine((input) => (input.ids === undefined) !== (input.filter === undefined), {
    path: ['ids'],
    message: 'pass either ids or filter (filter: {} retries every failed, dead and cancelled message)',
  });

export const addressSchema = z.string().min(3).max(320);

type Defined<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

/** Drops absent fields, so zod's `field?: T | undefined` fits the store's exact optional fields. */
export function defined<T extends object>(value: T): Defined<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Defined<T>;
}
