import { type Address, mailError } from '@mailroute/core';
import type { StoreContext } from './context.js';
import { TRANSITION_INSERT_COLUMNS } from './rows.js';
import { argumentList, insertRows, type SqlRunner } from './sql.js';

/** A claimed row as `pickDue` returns it: the message's columns plus the status it was claimed from. */
type ClaimedRow = Record<string, unknown>;

/** A recipient on the suppression list when the message was claimed. */
export interface LeftOut {
  readonly address: string;
  readonly reason: string;
}

export interface ClaimSuppressions {
  /** Messages that may not go out at all: already moved to `failed`, not to be sent. */
  readonly failed: ReadonlySet<string>;
  /** Per message still to be sent: the recipients left out (lower-cased address -> entry). */
  readonly leftOut: ReadonlyMap<string, ReadonlyMap<string, LeftOut>>;
}

interface RecipientRow extends Record<string, unknown> {
  readonly id: number | string;
  readonly message_id: string;
  readonly address: string;
  readonly suppressed_at: unknown;
  readonly reason: string | null;
}

/** Claims are bounded by a worker's concurrency; this keeps any one IN list well under both databases' limits. */
const CHUNK = 1_000;
/** Every recipient left out is marked on its row; a transition's reason names only this many. */
const NAMED_IN_REASON = 10;

/**
 * The suppression list checked again as the worker takes the mail, inside the claim's
 * transaction: an address that hard-bounced or complained after the message was accepted
 * (scheduled mail, mail waiting for a retry) gets nothing. One set-based query per claimed
 * batch (recipients joined to the tenant's list); writes only when something is suppressed.
 *
 * A message with no `to` recipient left (every recipient suppressed, or only cc/bcc remain:
 * a copy without its addressee, which SendGrid would refuse anyway) ends `failed` with
 * `RECIPIENT_SUPPRESSED`, no provider call. Otherwise it goes to the others, as the large
 * providers do, and the recipients left out are marked (`suppressed_at`, `suppressed_reason`).
 * A mark whose address left the list since is cleared: the next send includes it again.
 */
export async function checkClaimSuppressions(
  ctx: StoreContext,
  sql: SqlRunner,
  rows: readonly ClaimedRow[],
  now: Date,
): Promise<ClaimSuppressions> {
  const failed = new Set<string>();
  const leftOut = new Map<string, Map<string, LeftOut>>();
  if (rows.length === 0) return { failed, leftOut };
  const found: RecipientRow[] = [];
  for (let start = 0; start < rows.length; start += CHUNK) {
    const a = argumentList(ctx.raw);
    const ids = rows.slice(start, start + CHUNK).map((row) => String(row.id));
    found.push(
      ...(await sql.query<RecipientRow>(
        `SELECT r.id, r.message_id, r.address, r.suppressed_at, s.reason
         FROM message_recipient r
         JOIN message m ON m.id = r.message_id
         LEFT JOIN suppression s ON s.tenant_id = m.tenant_id AND s.address = r.address
         WHERE r.message_id IN (${a.list(ids)}) AND (s.reason IS NOT NULL OR r.suppressed_at IS NOT NULL)
         ORDER BY r.id`,
        a.args,
      )),
    );
  }
  if (found.length === 0) return { failed, leftOut };

  const marks: unknown[][] = [];
  const cleared: unknown[][] = [];
  for (const row of found) {
    if (row.reason === null) {
      cleared.push([row.id]);
      continue;
    }
    marks.push([now, row.reason, row.id]);
    const entries = leftOut.get(row.message_id) ?? new Map<string, LeftOut>();
    entries.set(row.address, { address: row.address, reason: row.reason });
    leftOut.set(row.message_id, entries);
  }
  const p = (index: number) => ctx.raw.placeholder(index);
  await sql.executeEach(`UPDATE message_recipient SET suppressed_at = ${p(1)}, suppressed_reason = ${p(2)} WHERE id = ${p(3)}`, marks);
  await sql.executeEach(`UPDATE message_recipient SET suppressed_at = NULL, suppressed_reason = NULL WHERE id = ${p(1)}`, cleared);

  const transitions: unknown[][] = [];
  const failures: { id: string; error: string }[] = [];
  for (const row of rows) {
    const id = String(row.id);
    const entries = leftOut.get(id);
    if (!entries) continue;
    const to = addressesOf(row.to_addresses).filter((address) => !entries.has(address.email.toLowerCase()));
    if (to.length > 0) continue;
    const everyone = [...addressesOf(row.to_addresses), ...addressesOf(row.cc_addresses), ...addressesOf(row.bcc_addresses)].every(
      (address) => entries.has(address.email.toLowerCase()),
    );
    const list = describeLeftOut(entries);
    const message = everyone
      ? `every recipient is on the suppression list: ${list}`
      : `no \`to\` recipient is left, the others are on the suppression list: ${list}`;
    const error = mailError('RECIPIENT_SUPPRESSED', message);
    failed.add(id);
    leftOut.delete(id);
    failures.push({ id, error: JSON.stringify(error) });
    transitions.push([id, row.claimed_from, 'failed', now, `RECIPIENT_SUPPRESSED when claimed: ${message}`]);
  }
  if (failures.length > 0) {
    await sql.executeEach(
      `UPDATE message SET status = 'failed', last_error_code = 'RECIPIENT_SUPPRESSED', last_error = ${p(1)}${ctx.dialect === 'postgres' ? '::jsonb' : ''},
         finished_at = ${p(2)}, updated_at = ${p(3)}, next_attempt_at = NULL, lease_owner = NULL, lease_expires_at = NULL
       WHERE id = ${p(4)}`,
      failures.map(({ id, error }) => [error, now, now, id]),
    );
    await insertRows(sql, ctx.raw, 'message_transition', TRANSITION_INSERT_COLUMNS, transitions);
  }
  return { failed, leftOut };
}

/** Who was left out and why, for a transition's reason: the first few by name, then how many more. */
export function describeLeftOut(entries: ReadonlyMap<string, LeftOut>): string {
  const all = [...entries.values()];
  const named = all.slice(0, NAMED_IN_REASON).map((entry) => `${entry.address} (${entry.reason})`);
  return all.length > NAMED_IN_REASON ? `${named.join(', ')} and ${all.length - NAMED_IN_REASON} more` : named.join(', ');
}

/** The message as the providers get it: the recipients left out removed. */
export function withoutLeftOut<T extends { to: Address[]; cc: Address[]; bcc: Address[] }>(
  message: T,
  leftOut: ReadonlyMap<string, LeftOut> | undefined,
): T {
  if (!leftOut) return message;
  const keep = (list: Address[]) => list.filter((address) => !leftOut.has(address.email.toLowerCase()));
  return { ...message, to: keep(message.to), cc: keep(message.cc), bcc: keep(message.bcc) };
}

function addressesOf(value: unknown): Address[] {
  const parsed = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(parsed) ? (parsed as Address[]) : [];
}
