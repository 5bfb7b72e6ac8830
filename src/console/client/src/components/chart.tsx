/**
 * A time-series chart on uPlot (canvas). Its size follows its container; a sentence under
 * role="img" says what it shows for screen readers, and the legend reads the values at the cursor.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
  /** Draw as bars instead of a line. */
  bars?: boolean;
  fill?: boolean;
}

export function TimeChart({ times, series, height = 200, label, yLabel }: { times: number[]; series: ChartSeries[]; height?: number; label: string; yLabel?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = series.map((s) => `${s.label}:${s.bars ? 'b' : 'l'}`).join('|');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(200, el.clientWidth);
    const bars = uPlot.paths.bars?.({ size: [0.7, 28], gap: 1 });
    const opts: uPlot.Options = {
      width,
      height,
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      legend: { show: true, live: true },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [
        { stroke: '#5b6675', grid: { stroke: '#eef0f3', width: 1 }, ticks: { stroke: '#e3e6ea', width: 1 }, font: '11px system-ui, sans-serif' },
        {
          stroke: '#5b6675',
          grid: { stroke: '#eef0f3', width: 1 },
          ticks: { show: false },
          font: '11px system-ui, sans-serif',
          size: 48,
          ...(yLabel ? { label: yLabel, labelSize: 16, labelFont: '11px system-ui, sans-serif' } : {}),
          values: (_u, ticks) => ticks.map((t) => (t >= 1e6 ? `${(t / 1e6).toFixed(1)}M` : t >= 1e3 ? `${(t / 1e3).toFixed(t >= 1e4 ? 0 : 1)}k` : String(Math.round(t * 100) / 100))),
        },
      ],
      series: [
        { label: 'Time', value: (_u, v) => (v == null ? '—' : new Date(v * 1000).toISOString().slice(5, 16).replace('T', ' ')) },
        ...series.map<uPlot.Series>((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.bars ? 0 : 1.75,
          ...(s.bars ? { fill: s.color, paths: bars } : s.fill ? { fill: `${s.color}22` } : {}),
          points: { show: false },
          value: (_u, v) => (v == null ? '—' : v.toLocaleString('en-US')),
        })),
      ],
    };
    plot.current = new uPlot(opts, [times, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (plot.current && Math.abs(plot.current.width - w) > 2) plot.current.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Rebuilt only when the series' shape changes; new data goes through setData below.
  }, [shape, height]);

  useEffect(() => {
    plot.current?.setData([times, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [times, series]);

  const totals = series.map((s) => `${s.label} ${s.values.reduce<number>((a, v) => a + (v ?? 0), 0).toLocaleString('en-US')}`).join(', ');
  return (
    <figure className="chart" role="img" aria-label={`${label}: ${totals}${times.length ? ` over ${times.length} points` : ''}.`}>
      <div ref={box} className="chart-box" />
    </figure>
  );
}

/** Horizontal bars for a ranked list (refusals by rule, evidence weights). */
export function BarList({ items, color = 'var(--accent)', format = (n: number) => n.toLocaleString('en-US'), max }: { items: { label: string; value: number; href?: string }[]; color?: string; format?: (n: number) => string; max?: number }) {
  const top = max ?? Math.max(1, ...items.map((i) => i.value));
  return (
    <ul className="barlist">
      {items.map((i) => (
        <li key={i.label}>
          <span className="barlist-label" title={i.label}>
            {i.href ? <a href={i.href}>{i.label}</a> : i.label}
          </span>
          <span className="barlist-track" aria-hidden="true">
            <span className="barlist-fill" style={{ width: `${((i.value / top) * 100).toFixed(1)}%`, background: color }} />
          </span>
          <span className="barlist-value num">{format(i.value)}</span>
        </li>
      ))}
    </ul>
  );
}
