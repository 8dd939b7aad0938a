import { describe, expect, test } from 'vitest';
import { htmlDocument } from './components/HtmlPreview.js';
import { duration, percent, utcText } from './format.js';
import { initialLang, translate } from './i18n.js';
import { en } from './locales/en.js';
import { ja } from './locales/ja.js';
import { lastOutage } from './pages/Recovery.js';
import { allows, type Scope } from './session.js';

describe('language', () => {
  test('the URL wins, then the stored choice, then the browser', () => {
    expect(initialLang('?lang=ja', 'en', ['en-US'])).toBe('ja');
    expect(initialLang('', 'ja', ['en-US'])).toBe('ja');
    expect(initialLang('', null, ['ja-JP', 'en'])).toBe('ja');
    expect(initialLang('?lang=xx', 'zz', ['de-DE'])).toBe('en');
  });

  test('Japanese has every English text, none left in English by mistake', () => {
    expect(Object.keys(ja).sort()).toEqual(Object.keys(en).sort());
    const untranslated = Object.entries(ja).filter(([key, text]) => text === en[key as keyof typeof en] && /[a-z]{4,}/.test(text));
    expect(untranslated).toEqual([]);
  });

  test('placeholders are filled in either language', () => {
    expect(translate('en', 'card.openIn', { open: 2, all: 3 })).toBe('Breaker OPEN in 2 of 3 processes');
    expect(translate('ja', 'scope.missing', { scope: 'admin' })).toBe('admin スコープが必要です');
  });
});

describe('formats', () => {
  test('durations read like a person would say them', () => {
    expect([950, 12_000, 245_000, 7_380_000, 273_600_000].map(duration)).toEqual(['950 ms', '12 s', '4 min 5 s', '2 h 3 min', '3 d 4 h']);
  });

  test('percentages and UTC text', () => {
    expect([undefined, 0, 0.5, 0.9996].map(percent)).toEqual(['—', '0%', '50.0%', '100%']);
    expect(utcText(Date.parse('2026-12-07T16:03:52.123Z'))).toBe('2026-12-07 16:03:52 UTC');
  });
});

describe('HTML preview document', () => {
  test('remote images are blocked by the content policy until asked for', () => {
    const blocked = htmlDocument('<img src="https://tracker.example/p.gif">', false);
    expect(blocked).toContain('img-src data: cid:;');
    expect(blocked).toContain("default-src 'none'");
    expect(htmlDocument('<p>x</p>', true)).toContain('img-src data: cid: https: http:');
  });
});

describe('outage preset', () => {
  test('the latest open-to-closed stretch of any provider, or one still open', () => {
    const events = [
      { provider: 'sendgrid', to: 'open', at: 100 },
      { provider: 'sendgrid', to: 'half_open', at: 150 },
      { provider: 'sendgrid', to: 'closed', at: 200 },
      { provider: 'ses', to: 'open', at: 300 },
      { provider: 'ses', to: 'closed', at: 450 },
    ];
    expect(lastOutage(events)).toEqual({ subject: 'ses', startedAt: 300, resolvedAt: 450 });
    expect(lastOutage([...events, { provider: 'smtp', to: 'open', at: 500 }])).toEqual({ subject: 'smtp', startedAt: 500 });
    expect(lastOutage([])).toBeUndefined();
  });
});

describe('scope checks', () => {
  test('the console allows what the server allows: admin inside its tenant, operator for the service', () => {
    const key = (scopes: Scope[]) => ({ scopes, operator: scopes.includes('operator') });
    const table: [Scope[], Record<Scope, boolean>][] = [
      [['read'], { read: true, send: false, admin: false, operator: false }],
      [['send'], { read: false, send: true, admin: false, operator: false }],
      [['admin'], { read: true, send: true, admin: true, operator: false }],
      [['operator'], { read: true, send: true, admin: true, operator: true }],
      [['read', 'send'], { read: true, send: true, admin: false, operator: false }],
    ];
    for (const [scopes, expected] of table) {
      const got = Object.fromEntries((Object.keys(expected) as Scope[]).map((needed) => [needed, allows(key(scopes), needed)]));
      expect({ scopes, got }).toEqual({ scopes, got: expected });
    }
  });
});
