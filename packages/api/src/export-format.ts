import type { ExportRow } from '@mailroute/store';
import { stringify } from 'csv-stringify/sync';

/** CSV columns, in order; times are ISO 8601 (UTC), recipients joined by `; `. */
export const exportColumns = [
  'id',
  'tenant',
  'status',
  'to',
  'cc',
  'bcc',
  'subject',
  'provider',
  'provider_message_id',
  'attempts',
  'possible_duplicate',
  'last_error_code',
  'last_error',
  'created_at',
  'sent_at',
  'finished_at',
  'delivered_at',
] as const;

const iso = (time: number | undefined) => (time === undefined ? '' : new Date(time).toISOString());

/**
 * A cell a spreadsheet would read as a formula (OWASP "CSV injection": it starts with `=`, `+`,
 * `-`, `@`, a tab or a carriage return) gets a single quote in front, so it shows as text.
 * Subjects, addresses and provider errors come from senders and providers, not from us.
 */
export function neutraliseFormula(cell: string): string {
  return /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
}

function cells(row: ExportRow): Record<(typeof exportColumns)[number], string> {
  const text = rawCells(row);
  for (const column of exportColumns) text[column] = neutraliseFormula(text[column]);
  return text;
}

function rawCells(row: ExportRow): Record<(typeof exportColumns)[number], string> {
  return {
    id: row.id,
    tenant: row.tenantId,
    status: row.status,
    to: row.to.join('; '),
    cc: row.cc.join('; '),
    bcc: row.bcc.join('; '),
    subject: row.subject,
    provider: row.provider ?? '',
    provider_message_id: row.providerMessageId ?? '',
    attempts: String(row.attempts),
    possible_duplicate: String(row.possibleDuplicate),
    last_error_code: row.lastErrorCode ?? '',
    last_error: row.lastError ?? '',
    created_at: iso(row.createdAt),
    sent_at: iso(row.sentAt),
    finished_at: iso(row.finishedAt),
    delivered_at: iso(row.deliveredAt),
  };
}

/**
 * RFC 4180 CSV of one export page (csv-stringify quotes commas, quotes and line breaks, so a
 * subject with any of them reads back as it was, formula cells aside); the header goes on the first page only, so
 * pages concatenate into one file.
 */
export function exportCsv(rows: readonly ExportRow[], withHeader: boolean): string {
  return stringify(rows.map(cells), {
    header: withHeader,
    columns: [...exportColumns],
    record_delimiter: '\r\n',
  });
}
