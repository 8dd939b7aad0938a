import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';

/** One scrape of a /metrics endpoint, parsed by a Prometheus text-format parser (not by us). */
export async function scrape(url: string): Promise<PrometheusFamily[]> {
  return parsePrometheusTextFormat(await scrapeText(url));
}

export async function scrapeText(url: string): Promise<string> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  const type = response.headers.get('content-type') ?? '';
  if (!type.startsWith('text/plain')) throw new Error(`${url} answered ${type}, not the text format`);
  return response.text();
}

/**
 * `<name>_count` samples of a labelled histogram, summed. The parser keeps only label-less
 * histograms whole (it folds labelled series into one bucket map), so these lines are read here.
 */
export function histogramCount(text: string, name: string): number {
  const pattern = new RegExp(`^${name}_count(?:\\{[^}]*\\})? (\\S+)$`, 'gm');
  return [...text.matchAll(pattern)].reduce((sum, match) => sum + Number(match[1]), 0);
}

export function family(families: readonly PrometheusFamily[], name: string): PrometheusFamily {
  const found = families.find((entry) => entry.name === name);
  if (!found) throw new Error(`no metric ${name} in the scrape`);
  return found;
}

/** Sample values of a counter or gauge, keyed by the chosen labels joined with `/`. */
export function valuesBy(families: readonly PrometheusFamily[], name: string, labels: readonly string[]): Record<string, number> {
  const values: Record<string, number> = {};
  for (const sample of family(families, name).metrics) {
    const key = labels.map((label) => sample.labels?.[label] ?? '').join('/');
    values[key] = (values[key] ?? 0) + Number(sample.value);
  }
  return values;
}

/** Adds up per-key values from several processes' scrapes. */
export function addUp(...parts: readonly Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const part of parts) for (const [key, value] of Object.entries(part)) total[key] = (total[key] ?? 0) + value;
  return total;
}
