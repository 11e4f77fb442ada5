/**
 * A time-series line chart (uPlot, canvas). It follows its container's width; `summary` is read out to
 * screen readers in place of the canvas, and a legend under the chart names each line in text.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface ChartSeries {
  label: string;
  color?: string;
  /** One value per timestamp; null is a gap. */
  values: Array<number | null>;
}

export interface ChartProps {
  /** Seconds since the epoch. */
  timestamps: number[];
  series: ChartSeries[];
  /** Unit of the y axis, e.g. `msg/s` or `ms`. */
  unit: string;
  summary: string;
  height?: number;
  id?: string;
  /** The x range shown (seconds), e.g. the last 15 minutes even while the data covers less. */
  range?: [number, number];
}

const PALETTE = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];

/** An axis tick: at most three significant digits, no trailing zeros. */
function tick(value: number): string {
  return String(Number(value.toPrecision(3)));
}

export function Chart(props: ChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => s.label).join('\u0000') + props.unit;
  const range = useRef(props.range);
  range.current = props.range;
  const data = [props.timestamps, ...props.series.map((s) => s.values)] as uPlot.AlignedData;

  useEffect(() => {
    const el = host.current!;
    const options: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height: props.height ?? 200,
      cursor: { y: false, points: { size: 6 } },
      legend: { live: false },
      scales: {
        x: { time: true, range: (_u, min, max) => range.current ?? [min, max] },
        y: { range: (_u, _min, max) => [0, Math.max(max, 1) * 1.1] },
      },
      axes: [
        { stroke: '#64748b', grid: { stroke: '#eef2f7' }, ticks: { stroke: '#e2e8f0' } },
        {
          stroke: '#64748b',
          grid: { stroke: '#eef2f7' },
          ticks: { stroke: '#e2e8f0' },
          size: 56,
          label: props.unit,
          labelSize: 18,
          values: (_u, ticks) => ticks.map(tick),
        },
      ],
      series: [
        {},
        ...props.series.map((s, i) => {
          const color = s.color ?? PALETTE[i % PALETTE.length];
          return {
            label: s.label,
            stroke: color,
            width: 2,
            fill: props.series.length === 1 ? `${color}1a` : undefined,
            spanGaps: false,
            points: { show: false },
          };
        }),
      ],
    };
    plot.current = new uPlot(options, data, el);
    const observer = new ResizeObserver(() => {
      if (plot.current && el.clientWidth > 0)
        plot.current.setSize({ width: el.clientWidth, height: props.height ?? 200 });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  return (
    <figure class="chart" id={props.id}>
      <div ref={host} role="img" aria-label={props.summary} />
    </figure>
  );
}
