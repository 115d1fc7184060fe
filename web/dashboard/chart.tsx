/**
 * A time-series chart (uPlot) that fills its container's width. The figures it draws are also in the tables and
 * tiles beside it; the chart carries a text summary for screen readers.
 */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import { formatDateTime, formatTick } from "../shared/format-time.js";

export interface Series {
  label: string;
  values: (number | null)[];
  color: string;
  /** a value formatter for the legend and axis */
  format?: (v: number) => string;
}

export function TimeChart(props: {
  title: string;
  summary: string;
  times: number[];
  series: Series[];
  /** the top of the value axis (e.g. 1 for rates); default: a little above the largest value */
  yMax?: number;
}) {
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const format = props.series[0]?.format ?? ((v: number) => String(v));
    const plot = new uPlot(
      {
        width: Math.max(280, element.clientWidth),
        height: 220,
        series: [
          // uPlot writes its own US-style dates; the pages' one formatter follows the browser's locale instead.
          { value: (_u: uPlot, t: number | null) => (t == null ? "–" : formatDateTime(t * 1000)) },
          ...props.series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            points: { show: props.times.length < 60 },
            value: (_u: uPlot, v: number | null) => (v == null ? "–" : (s.format ?? format)(v)),
          })),
        ],
        axes: [
          {
            values: (_u: uPlot, ticks: number[], _a, _s, step: number) =>
              ticks.map((t) => formatTick(t * 1000, step * 1000)),
          },
          { values: (_u: uPlot, ticks: number[]) => ticks.map(format), size: 70 },
        ],
        // Counts, rates and money start at zero, so a quiet period reads as zero, not as the bottom of the chart.
        scales: {
          x: { time: true },
          y: { range: (_u: uPlot, _min: number, max: number) => [0, props.yMax ?? (max > 0 ? max * 1.1 : 1)] },
        },
      },
      [props.times, ...props.series.map((s) => s.values)] as uPlot.AlignedData,
      element,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(280, element.clientWidth), height: 220 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.times, props.series, props.yMax]);

  return (
    <figure class="fv-chart">
      <figcaption>{props.title}</figcaption>
      <div ref={box} role="img" aria-label={`${props.title}: ${props.summary}`} />
    </figure>
  );
}
