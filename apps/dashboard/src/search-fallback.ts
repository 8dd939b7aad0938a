/**
 * Until the server's search language answers, the prefixes mail.list can filter by.
 * Anything else is refused rather than silently ignored.
 */
const STATUSES = [
  'queued',
  'scheduled',
  'sending',
  'held',
  'sent',
  'retrying',
  'failed',
  'dead',
  'cancelled',
  'delivered',
  'deferred',
  'bounced',
  'complained',
];

import type { Inputs } from './trpc.js';

type Status = Extract<NonNullable<Exclude<Inputs['mail']['list'], void>>['status'], string>;
export type ListFilter = {
  status?: Status[];
  provider?: string;
  recipient?: string;
  tag?: string;
  createdFrom?: string;
  createdTo?: string;
};

export function listFilterOf(q: string): { ok: true; filter: ListFilter } | { ok: false; message: string } {
  const filter: ListFilter = {};
  for (const word of q.split(/\s+/).filter(Boolean)) {
    const [prefix, ...rest] = word.split(':');
    const value = rest.join(':');
    if (!value) return { ok: false, message: `"${word}": use status: provider: to: tag: after: before:` };
    if (prefix === 'status') {
      const bad = value.split(',').find((status) => !STATUSES.includes(status));
      if (bad) return { ok: false, message: `unknown status ${bad}` };
      filter.status = value.split(',') as Status[];
    } else if (prefix === 'provider') filter.provider = value;
    else if (prefix === 'to') filter.recipient = value;
    else if (prefix === 'tag') filter.tag = value;
    else if (prefix === 'after') filter.createdFrom = new Date(value).toISOString();
    else if (prefix === 'before') filter.createdTo = new Date(value).toISOString();
    else return { ok: false, message: `unknown search prefix "${prefix}:"; valid: status: provider: to: tag: after: before:` };
  }
  return { ok: true, filter };
}
