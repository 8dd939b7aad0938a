import { type Lang, useLang } from './i18n.js';

const localFormats = new Map<Lang, Intl.DateTimeFormat>();
function localFormat(lang: Lang): Intl.DateTimeFormat {
  let format = localFormats.get(lang);
  if (!format) {
    format = new Intl.DateTimeFormat(lang === 'ja' ? 'ja-JP' : 'en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
    localFormats.set(lang, format);
  }
  return format;
}

/** `2026-12-07 16:03:52 UTC`: what the hover shows whatever the browser's zone. */
export function utcText(at: number): string {
  return `${new Date(at).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}

/** A moment in the browser's zone; UTC on hover. */
export function Time({ at }: { readonly at: number | undefined }) {
  const { lang } = useLang();
  if (at === undefined) return <span>—</span>;
  return (
    <time dateTime={new Date(at).toISOString()} title={utcText(at)}>
      {localFormat(lang).format(at)}
    </time>
  );
}

/** 950 ms, 12 s, 4 min 5 s, 2 h 3 min, 3 d 4 h. */
export function duration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1_000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

export function percent(rate: number | undefined): string {
  if (rate === undefined) return '—';
  return `${(rate * 100).toFixed(rate >= 0.999 || rate === 0 ? 0 : 1)}%`;
}

export function count(n: number, lang: Lang): string {
  return n.toLocaleString(lang === 'ja' ? 'ja-JP' : 'en-US');
}
