import { z } from 'zod';
import type { StoreContext } from './context.js';
import type { Prisma } from './database.js';
import { parseInput } from './filters.js';
import { uuidv7 } from './ids.js';

/** What the monitor watches; the kind names an incident together with its subject. */
export const alertKinds = ['late_delivery', 'breaker_open', 'dead_messages', 'all_providers_failing'] as const;
export type AlertKind = (typeof alertKinds)[number];

export const alertStates = ['firing', 'resolved'] as const;
export type AlertState = (typeof alertStates)[number];

/** The notices an incident gets: one when it starts, reminders while it lasts, one when it clears. */
export const alertNoticeKinds = ['firing', 'reminder', 'resolved'] as const;
export type AlertNoticeKind = (typeof alertNoticeKinds)[number];

/** Subject of an incident about the whole service rather than one provider. */
export const SERVICE_SUBJECT = '*';

export interface AlertNotificationRecord {
  readonly id: string;
  readonly alertId: string;
  readonly kind: AlertNoticeKind;
  readonly channel: string;
  readonly sentAt: number;
  readonly ok: boolean;
  /** Why the channel did not take the notice (never the channel's address: it is a secret). */
  readonly error?: string;
}

/** One incident, from the check that raised it to the check that saw it clear. */
/** Every kind's name for a person and its section in docs/runbook.md. */
export const alertTitles: Record<AlertKind, { readonly title: string; readonly runbook: string }> = {
  late_delivery: { title: 'Late delivery', runbook: 'docs/runbook.md#late-delivery' },
  breaker_open: { title: 'Breaker open', runbook: 'docs/runbook.md#breaker-open' },
  dead_messages: { title: 'Messages went dead', runbook: 'docs/runbook.md#messages-went-dead' },
  all_providers_failing: { title: 'Every provider failing', runbook: 'docs/runbook.md#every-provider-failing' },
};

export interface AlertRecord {
  readonly id: string;
  readonly kind: AlertKind;
  /** A provider name, or `*` for the whole service. */
  readonly subject: string;
  readonly state: AlertState;
  /** One line for a person, as of the latest check that saw the condition. */
  readonly summary: string;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly startedAt: number;
  /** When a channel last took a notice about it. */
  readonly lastNotifiedAt?: number;
  /** Notices channels took about it (every channel counts). */
  readonly notifyCount: number;
  readonly resolvedAt?: number;
}

export interface AlertWithNotifications extends AlertRecord {
  /** The latest notices (at most NOTIFICATIONS_PER_ALERT), oldest first. */
  readonly notifications: readonly AlertNotificationRecord[];
}

export interface AlertCondition {
  readonly kind: AlertKind;
  readonly subject: string;
  readonly summary: string;
  readonly detail: Readonly<Record<string, unknown>>;
  /**
   * When the condition began (a breaker left closed, the first message became late), if the
   * check knows; a new incident starts then rather than when the check noticed. Never later than now.
   */
  readonly startedAt?: number;
}

export interface AlertListRequest {
  readonly state?: AlertState;
  readonly kind?: AlertKind;
  readonly subject?: string;
  /** Incidents that started at or after this time (epoch ms). */
  readonly since?: number;
  /** Incidents that started before this time (epoch ms). */
  readonly until?: number;
  readonly limit?: number;
  readonly cursor?: string;
}

export interface AlertApi {
  /**
   * Opens an incident for the condition's kind and subject, or, when one is firing already,
   * brings its summary and detail up to date. There is at most one firing incident per kind
   * and subject, even when two processes raise the same condition at once.
   */
  raiseAlert(condition: AlertCondition): Promise<{ alert: AlertRecord; opened: boolean }>;
  /** Closes a firing incident (undefined if it is not firing any more). */
  resolveAlert(id: string, update?: { summary?: string; detail?: Readonly<Record<string, unknown>> }): Promise<AlertRecord | undefined>;
  firingAlerts(): Promise<AlertRecord[]>;
  /**
   * Firing incidents, and incidents resolved at or after `resolvedSince` that some channel was
   * told about: the ones a notice may still be due for.
   */
  alertsAwaitingNotice(resolvedSince: number): Promise<AlertRecord[]>;
  /** Records one notice to one channel; a notice the channel took also counts on the incident. */
  recordAlertNotification(notice: {
    alertId: string;
    kind: AlertNoticeKind;
    channel: string;
    ok: boolean;
    error?: string;
  }): Promise<AlertNotificationRecord>;
  /** The notices channels took for these incidents, oldest first. */
  deliveredNotifications(alertIds: readonly string[]): Promise<AlertNotificationRecord[]>;
  /** Incident history, newest first, with the latest notices of each. */
  listAlerts(request?: AlertListRequest): Promise<{ items: AlertWithNotifications[]; nextCursor?: string }>;
}

export const NOTIFICATIONS_PER_ALERT = 50;

const conditionSchema = z.strictObject({
  kind: z.enum(alertKinds),
  subject: z.string().min(1).max(200),
  summary: z.string().min(1).max(2_000),
  detail: z.record(z.string(), z.unknown()),
  startedAt: z.number().int().min(0).optional(),
});

const alertListSchema = z.strictObject({
  state: z.enum(alertStates).optional(),
  kind: z.enum(alertKinds).optional(),
  subject: z.string().min(1).max(200).optional(),
  since: z.number().int().min(0).optional(),
  until: z.number().int().min(0).optional(),
  limit: z.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(100).optional(),
});

type AlertRow = Prisma.AlertGetPayload<Record<string, never>>;
type NotificationRow = Prisma.AlertNotificationGetPayload<Record<string, never>>;

function toAlert(row: AlertRow): AlertRecord {
  return {
    id: row.id,
    kind: row.kind as AlertKind,
    subject: row.subject,
    state: row.state as AlertState,
    summary: row.summary,
    detail: (row.detail ?? {}) as Record<string, unknown>,
    startedAt: row.startedAt.getTime(),
    ...(row.lastNotifiedAt ? { lastNotifiedAt: row.lastNotifiedAt.getTime() } : {}),
    notifyCount: row.notifyCount,
    ...(row.resolvedAt ? { resolvedAt: row.resolvedAt.getTime() } : {}),
  };
}

function toNotification(row: NotificationRow): AlertNotificationRecord {
  return {
    id: row.id,
    alertId: row.alertId,
    kind: row.kind as AlertNoticeKind,
    channel: row.channel,
    sentAt: row.sentAt.getTime(),
    ok: row.ok,
    ...(row.error === null ? {} : { error: row.error }),
  };
}

const json = (detail: Readonly<Record<string, unknown>>) => detail as Prisma.InputJsonObject;

export function createAlertApi(ctx: StoreContext): AlertApi {
  const { db } = ctx;

  return {
    async raiseAlert(condition) {
      const input = parseInput(conditionSchema, condition, 'alert');
      return db.$transaction(async (tx) => {
        if (ctx.dialect === 'postgres') {
          // Two transactions could each find no firing row and insert one; the lock (held to
          // commit) makes the second wait and then find the first. SQLite has one writer.
          await tx.$queryRawUnsafe('SELECT pg_advisory_xact_lock(hashtext($1))::text AS locked', `alert:${input.kind}:${input.subject}`);
        }
        const firing = await tx.alert.findFirst({
          where: { state: 'firing', kind: input.kind, subject: input.subject },
          orderBy: { startedAt: 'asc' },
        });
        if (firing) {
          const row = await tx.alert.update({ where: { id: firing.id }, data: { summary: input.summary, detail: json(input.detail) } });
          return { alert: toAlert(row), opened: false };
        }
        const now = ctx.now();
        const row = await tx.alert.create({
          data: {
            id: uuidv7(now),
            kind: input.kind,
            subject: input.subject,
            state: 'firing',
            summary: input.summary,
            detail: json(input.detail),
            startedAt: new Date(Math.min(input.startedAt ?? now, now)),
          },
        });
        return { alert: toAlert(row), opened: true };
      });
    },

    async resolveAlert(id, update = {}) {
      const result = await db.alert.updateMany({
        where: { id, state: 'firing' },
        data: {
          state: 'resolved',
          resolvedAt: new Date(ctx.now()),
          ...(update.summary === undefined ? {} : { summary: update.summary }),
          ...(update.detail === undefined ? {} : { detail: json(update.detail) }),
        },
      });
      if (result.count === 0) return undefined;
      const row = await db.alert.findUnique({ where: { id } });
      return row ? toAlert(row) : undefined;
    },

    async firingAlerts() {
      const rows = await db.alert.findMany({ where: { state: 'firing' }, orderBy: { startedAt: 'asc' } });
      return rows.map(toAlert);
    },

    async alertsAwaitingNotice(resolvedSince) {
      const rows = await db.alert.findMany({
        where: { OR: [{ state: 'firing' }, { state: 'resolved', notifyCount: { gt: 0 }, resolvedAt: { gte: new Date(resolvedSince) } }] },
        orderBy: { startedAt: 'asc' },
      });
      return rows.map(toAlert);
    },

    async recordAlertNotification(notice) {
      const now = ctx.now();
      const sentAt = new Date(now);
      const data = {
        id: uuidv7(now),
        alertId: notice.alertId,
        kind: notice.kind,
        channel: notice.channel,
        sentAt,
        ok: notice.ok,
        error: notice.error === undefined ? null : notice.error.slice(0, 2_000),
      };
      const row = await db.$transaction(async (tx) => {
        const created = await tx.alertNotification.create({ data });
        if (notice.ok) {
          await tx.alert.update({ where: { id: notice.alertId }, data: { lastNotifiedAt: sentAt, notifyCount: { increment: 1 } } });
        }
        return created;
      });
      return toNotification(row);
    },

    async deliveredNotifications(alertIds) {
      if (alertIds.length === 0) return [];
      const rows = await db.alertNotification.findMany({
        where: { alertId: { in: [...alertIds] }, ok: true },
        orderBy: [{ sentAt: 'asc' }, { id: 'asc' }],
      });
      return rows.map(toNotification);
    },

    async listAlerts(request = {}) {
      const parsed = parseInput(alertListSchema, request, 'alert query');
      const startedAt: Prisma.DateTimeFilter = {
        ...(parsed.since === undefined ? {} : { gte: new Date(parsed.since) }),
        ...(parsed.until === undefined ? {} : { lt: new Date(parsed.until) }),
      };
      const rows = await db.alert.findMany({
        where: {
          ...(parsed.state ? { state: parsed.state } : {}),
          ...(parsed.kind ? { kind: parsed.kind } : {}),
          ...(parsed.subject ? { subject: parsed.subject } : {}),
          ...(Object.keys(startedAt).length > 0 ? { startedAt } : {}),
          // Ids are UUIDv7 made when the incident opened: newest opened first.
          ...(parsed.cursor ? { id: { lt: parsed.cursor } } : {}),
        },
        orderBy: { id: 'desc' },
        take: parsed.limit + 1,
        include: { notifications: { orderBy: [{ sentAt: 'desc' }, { id: 'desc' }], take: NOTIFICATIONS_PER_ALERT } },
      });
      const items = rows.slice(0, parsed.limit).map(
        (row): AlertWithNotifications => ({
          ...toAlert(row),
          notifications: row.notifications.map(toNotification).reverse(),
        }),
      );
      const last = items.at(-1);
      return rows.length > parsed.limit && last ? { items, nextCursor: last.id } : { items };
    },
  };
}
