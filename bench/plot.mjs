// Draws a bench run's PNG: end-to-end latency percentiles per offered rate, and the sustained
// run's throughput and memory over time. ESM because vega-lite loads only as ES modules.
// Usage: node bench/plot.mjs <results.json> <out.png>
import { readFileSync, writeFileSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vl from 'vega-lite';

const [input, output] = process.argv.slice(2);
const r = JSON.parse(readFileSync(input, 'utf8'));

const latency = [...r.e2e, ...(r.e2eHold?.trials ?? [])].flatMap((e) =>
  ['p50', 'p95', 'p99'].map((p) => ({ offered: e.offeredPerSecond, percentile: p, ms: e.latency[p] })),
);
const over = r.sustained.samples.flatMap((s) => [
  { t: s.t, series: 'deliveries/s', value: s.deliveriesPerSecond },
  { t: s.t, series: 'worker RSS MB', value: s.workerRssMb },
  { t: s.t, series: 'API RSS MB', value: s.apiRssMb },
]);

const spec = {
  title: `Herald bench ${r.startedAt}${r.quick ? ' (QUICK)' : ''}: baseline ${r.baseline.deliveriesPerSecond} deliveries/s`,
  hconcat: [
    {
      title: 'End-to-end latency (ingest → receipt)',
      width: 380,
      height: 260,
      data: { values: latency },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'offered', type: 'quantitative', title: 'offered events/s' },
        y: { field: 'ms', type: 'quantitative', title: 'ms', scale: { type: 'log' } },
        color: { field: 'percentile', type: 'nominal' },
      },
    },
    {
      title: `Sustained, fan-out ${r.sustained.fanout}, offered ${r.sustained.offeredEventsPerSecond * r.sustained.fanout} deliveries/s`,
      width: 380,
      height: 260,
      data: { values: over },
      mark: 'line',
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'seconds' },
        y: { field: 'value', type: 'quantitative', title: '' },
        color: { field: 'series', type: 'nominal' },
      },
    },
  ],
  config: { background: 'white' },
};

const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
const svg = await view.toSVG(2);
writeFileSync(output, new Resvg(svg, { font: { loadSystemFonts: true } }).render().asPng());
