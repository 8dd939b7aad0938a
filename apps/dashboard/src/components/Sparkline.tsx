import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/**
 * A small line of values over time (seconds since epoch in `x`); `null` is a gap. Drawn by
 * uPlot on a canvas, so the label says in words what the line shows.
 */
export function Sparkline({
  x,
  y,
  label,
  max,
  width = 220,
  height = 40,
}: {
  readonly x: readonly number[];
  readonly y: readonly (number | null)[];
  readonly label: string;
  readonly max?: number;
  readonly width?: number;
  readonly height?: number;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);

  useEffect(() => {
    const host = ref.current;
    if (!host) return;
    plot.current = new uPlot(
      {
        width,
        height,
        cursor: { show: false },
        legend: { show: false },
        select: { show: false, left: 0, top: 0, width: 0, height: 0 },
        axes: [{ show: false }, { show: false }],
        scales: { x: { time: true }, y: { range: (_u, min, dataMax) => [Math.min(0, min), max ?? dataMax] } },
        series: [{}, { stroke: '#2563eb', width: 1.5, fill: 'rgba(37, 99, 235, 0.12)', spanGaps: false, points: { show: true, size: 4 } }],
      },
      [[], []],
      host,
    );
    return () => {
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, [width, height, max]);

  useEffect(() => {
    plot.current?.setData([x as number[], y as (number | null)[]]);
  }, [x, y]);

  return <div ref={ref} className="sparkline" role="img" aria-label={label} />;
}
