import type { AlertRecord } from '@mailroute/store';
import { expect, test } from 'vitest';
import { consoleLink } from './notices.js';

function alert(kind: AlertRecord['kind'], subject: string): AlertRecord {
  return { id: 'a1', kind, subject, state: 'firing', summary: 's', detail: {}, startedAt: Date.UTC(2030, 0, 1, 9), notifyCount: 0 };
}

test('each incident links to the console view that shows it, with or without a trailing slash on the address', () => {
  for (const base of ['https://mail.example.com/dashboard/', 'https://mail.example.com/dashboard']) {
    expect(consoleLink(base, alert('breaker_open', 'sendgrid'), 3_600_000)).toBe(
      'https://mail.example.com/dashboard/?range=1h&provider=sendgrid',
    );
    expect(consoleLink(base, alert('all_providers_failing', '*'), 3_600_000)).toBe('https://mail.example.com/dashboard/?range=1h');
    expect(consoleLink(base, alert('late_delivery', '*'), 3_600_000)).toBe(
      'https://mail.example.com/dashboard/messages?q=status%3Aqueued%2Cscheduled%2Csending%2Cheld%2Cretrying',
    );
    expect(consoleLink(base, alert('dead_messages', '*'), 3_600_000)).toBe(
      'https://mail.example.com/dashboard/recovery?status=dead&from=2030-01-01T08%3A00%3A00.000Z',
    );
  }
  expect(consoleLink('https://x.example/console/', alert('breaker_open', 'smtp relay&co'), 1)).toBe(
    'https://x.example/console/?range=1h&provider=smtp+relay%26co',
  );
});
