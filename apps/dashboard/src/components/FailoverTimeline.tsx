import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import { Time } from '../format.js';
import { type MessageKey, useLang } from '../i18n.js';
import type { Outputs } from '../trpc.js';

type Series = Outputs['stats']['series'];

const COLORS = ['#1f5fd1', '#b45309', '#0f766e', '#7c3aed', '#be123c'];
const sum = (arrays: readonly (readonly number[])[], length: number) =>
  Array.from({ length }, (_, index) => arrays.reduce((total, values) => total + (values[index] ?? 0), 0));

/**
 * Failovers per bucket for each provider, with breaker changes and operator actions on the same
 * time axis; the list under the chart says the same in words (a canvas is not read aloud).
 */
export function FailoverTimeline({ series }: { readonly series: Series }) {
  const { t, lang } = useLang();
  const host = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const length = series.buckets.length;
    const x = series.buckets.map((at) => at / 1000);
    const failovers = series.providers.map((provider) => provider.failovers);
    const breakers = sum(
      series.providers.map((provider) => provider.breakerTransitions),
      length,
    ).map((n) => (n > 0 ? n : null));
    const actions = sum(
      series.providers.map((provider) => provider.operatorActions),
      length,
    ).map((n) => (n > 0 ? n : null));
    const clock = new Intl.DateTimeFormat(lang === 'ja' ? 'ja-JP' : 'en-GB', { hour: '2-digit', minute: '2-digit', hour12: false });
    const plot = new uPlot(
      {
        width: Math.max(320, element.clientWidth),
        height: 180,
        legend: { show: true, live: false },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(2, max)] } },
        axes: [{ values: (_u, splits) => splits.map((at) => clock.format(at * 1000)) }, { label: t('timeline.perBucket'), size: 50 }],
        series: [
          { label: t('timeline.time') },
          ...series.providers.map((provider, index) => ({
            label: `${t('timeline.failoversTo')} ${provider.provider}`,
            stroke: COLORS[index % COLORS.length] ?? '#1f5fd1',
            width: 2,
          })),
          { label: t('timeline.breakerChanges'), stroke: '#c4261d', width: 0, points: { show: true, size: 9, fill: '#c4261d' } },
          { label: t('timeline.operatorActions'), stroke: '#111827', width: 0, points: { show: true, size: 9, fill: '#111827' } },
        ],
      },
      [x, ...failovers, breakers, actions] as uPlot.AlignedData,
      element,
    );
    return () => plot.destroy();
  }, [series, t, lang]);

  const events = [
    ...series.breakerEvents.map((event) => ({
      at: event.at,
      key: `b-${event.process}-${event.provider}-${event.at}`,
      text: `${event.provider}: ${t('timeline.breaker')} ${event.from ? t(`breaker.${event.from}` as MessageKey) : '∅'} → ${t(`breaker.${event.to}` as MessageKey)}`,
    })),
    ...(series.operatorActions ?? []).map((action) => ({
      at: action.at,
      key: `a-${action.id}`,
      text: `${action.provider}: ${t(`providerState.${action.before.state}` as MessageKey)} → ${t(`providerState.${action.after.state}` as MessageKey)}${action.actor ? ` (${action.actor.keyName})` : ''}${action.note ? ` — ${action.note}` : ''}`,
    })),
  ]
    .sort((a, b) => b.at - a.at)
    .slice(0, 20);
  const totalFailovers = series.providers.reduce((total, provider) => total + provider.failovers.reduce((a, b) => a + b, 0), 0);

  return (
    <figure className="timeline-chart">
      <div ref={host} role="img" aria-label={t('timeline.chartLabel', { n: totalFailovers })} />
      <figcaption>
        {events.length === 0 ? (
          <p className="muted">{t('timeline.noEvents')}</p>
        ) : (
          <ul className="events">
            {events.map((event) => (
              <li key={event.key}>
                <Time at={event.at} /> {event.text}
              </li>
            ))}
          </ul>
        )}
      </figcaption>
    </figure>
  );
}
