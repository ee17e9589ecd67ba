import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HeraldHttp } from './herald-client';
import { openLoop, summarize } from './load';
import { BenchReceiver } from './receiver';
import { ProductionStack, sleep } from './stack';

/**
 * `make overload`: offers the API about three times what this machine's stack accepts, for
 * OVERLOAD_SECONDS (default 60), and checks that it sheds the excess the way clients can act
 * on: only 202, 429 or 503 with Retry-After, no timeouts, API memory bounded, and every
 * acknowledged event delivered afterwards. Exits non-zero otherwise.
 *
 *   OVERLOAD_RATE   offered events/s (default 300: about 3× the ~100 events/s this 2-core box accepts)
 */

const RATE = Number(process.env.OVERLOAD_RATE ?? 300);
const LOAD_MS = Number(process.env.OVERLOAD_SECONDS ?? 60) * 1000;
const DRAIN_MS = Number(process.env.OVERLOAD_DRAIN_SECONDS ?? 600) * 1000;
/** A client's patience: an answer slower than this counts as a timeout. */
const CLIENT_TIMEOUT_MS = 30_000;

async function main() {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const receiver = new BenchReceiver({ secret, verifyEvery: 10 });
  await receiver.start();
  const stack = await ProductionStack.start({ workers: 1, store: 'postgresql', env: { HERALD_INGEST_RATE: '1000000' } });
  console.log(`Overload: ${RATE} events/s offered for ${LOAD_MS / 1000} s; API ${stack.apiUrl}, logs ${stack.dataDir}/logs`);
  const http = new HeraldHttp(stack.apiUrl, 512);
  const statuses: Record<string, number> = {};
  const acknowledged = new Set<string>();
  const apiRss: number[] = [];
  let badShedding = 0;
  let exitCode = 0;
  const report: Record<string, unknown> = { startedAt: new Date().toISOString(), offeredPerSecond: RATE, seconds: LOAD_MS / 1000 };
  try {
    await http.subscribe(stack.adminKey, `${receiver.url}/overload`, ['overload.tick'], secret);
    const sampler = setInterval(() => apiRss.push(stack.api.rss()), 1_000);
    const run = `overload-${Date.now()}`;
    const load = await openLoop({
      rate: RATE,
      durationMs: LOAD_MS,
      maxInFlight: 20_000,
      task: async (i) => {
        const id = `${run}-${i}`;
        const call = http.call('POST', '/v1/events', stack.adminKey, { id, type: 'overload.tick', data: { run, sentAt: Date.now(), i } });
        const timeout = sleep(CLIENT_TIMEOUT_MS).then(() => 'timeout' as const);
        const res = await Promise.race([call, timeout]);
        if (res === 'timeout') {
          statuses.timeout = (statuses.timeout ?? 0) + 1;
          call.catch(() => undefined);
          return;
        }
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status === 202) acknowledged.add(id);
        else if ((res.status === 503 || res.status === 429) && !res.headers['retry-after']) badShedding += 1;
        else if (res.status >= 500 && res.status !== 503) badShedding += 1;
      },
      onTick: (t) => {
        if (Math.round(t) % 10_000 < 250)
          console.log(`  +${(t / 1000).toFixed(0)} s  ${JSON.stringify(statuses)}, API RSS ${Math.round(stack.api.rss() / 2 ** 20)} MB`);
      },
    });
    clearInterval(sampler);
    console.log(`Load done: ${acknowledged.size} acknowledged; waiting for their deliveries...`);
    const drainStart = Date.now();
    const delivered = () => new Set(receiver.receiptsOf(run).map((r) => r.eventId));
    // Counted over acknowledged ids only: an event answered 503 after its start reached
    // Temporal (the client's deadline passed first) is delivered too, and must not stand in
    // for one still on its way.
    const acknowledgedDelivered = () => {
      const got = delivered();
      return [...acknowledged].filter((id) => got.has(id)).length;
    };
    while (Date.now() - drainStart < DRAIN_MS && acknowledgedDelivered() < acknowledged.size) await sleep(2_000);
    const got = delivered();
    const missing = [...acknowledged].filter((id) => !got.has(id));
    const rssMb = apiRss.map((b) => Math.round(b / 2 ** 20));
    Object.assign(report, {
      statuses,
      latency: summarize(load.latencies),
      acknowledged: acknowledged.size,
      acceptedPerSecond: Math.round((acknowledged.size / LOAD_MS) * 1000),
      delivered: got.size,
      missing: missing.length,
      missingSample: missing.slice(0, 10),
      drainSeconds: Math.round((Date.now() - drainStart) / 1000),
      badShedding,
      apiRssMb: { first: rssMb[0], max: Math.max(...rssMb), last: rssMb[rssMb.length - 1] },
    });
    if (missing.length > 0 || badShedding > 0 || (statuses.timeout ?? 0) > 0) exitCode = 1;
  } finally {
    await http.close();
    await stack.stop({ keepData: exitCode !== 0 });
    await receiver.close();
  }
  const dir = path.resolve('bench/results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `overload-${String(report.startedAt).slice(0, 19).replaceAll(':', '')}Z.json`);
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  console.log(JSON.stringify(report, null, 2));
  if (exitCode) console.error('OVERLOAD FAILED: timeouts, 5xx other than 503 with Retry-After, or acknowledged events not delivered');
  process.exit(exitCode);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
