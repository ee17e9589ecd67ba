import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { MultiBar, Presets } from 'cli-progress';
import { Agent, request } from 'undici';
// The baseline signs with Herald's own code, so it pays the same HMAC per delivery.
import { sign } from '../src/domain/signing';
import { LOCAL_ATTEMPT_MAX_MS } from '../src/workflows/deliver-event';
import { FLOOR_TASK_QUEUE, floorDeliver } from './floor/workflows';
import { HeraldHttp } from './herald-client';
import { BROKER_CHANNELS } from '../src/domain/channels';
import { brokerConsumer } from './destinations';
import { closedLoop, openLoop, summarize, type LoadResult } from './load';
import { BenchReceiver } from './receiver';
import { ManagedProcess, postgresCpuMs, ProductionStack, sleep, type StoreBackend } from './stack';
import { TOOLS_DIR } from '../test/harness/servers';
import { markdownReport, type BenchResults, type StepEntry } from './report';
import { climbLadder, GRACE_MS, highestHeld, P99_LIMIT_MS, type LadderTarget } from './stepped';

/**
 * `make bench`: Herald on the production-shaped stack, measured against a plain Node loop
 * POSTing the same deliveries straight to the same receiver (the box's physical limit), and,
 * in the stepped scenario, against the floor (bench/floor/): a bare Temporal workflow per
 * event on the same server, the least any Temporal-based engine spends per event.
 * QUICK=1 takes about 6 minutes, the full run about 30.
 */

const QUICK = process.env.QUICK === '1';
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);
const STORE = (process.env.BENCH_STORE ?? 'postgresql') as StoreBackend;
const PROFILE = process.env.BENCH_PROFILE === '1';
/**
 * Events/s offered in the sustained scenario (× its fan-out in deliveries). The issue's target is 50 (500
 * deliveries/s); this stack holds far less on two cores, and an offered rate it cannot hold
 * only measures a growing backlog, so the default is one it can, and BENCH_SUSTAINED_RATE=50
 * runs the target.
 */
const SUSTAINED_RATE = Number(process.env.BENCH_SUSTAINED_RATE ?? 4);
/**
 * Subscriptions per event in the sustained scenario. BENCH_SUSTAINED_FANOUT=1 shows what an
 * event costs by itself, apart from its deliveries (CPU per delivery is then CPU per event).
 */
const SUSTAINED_FANOUT = Number(process.env.BENCH_SUSTAINED_FANOUT ?? 10);
if (!Number.isInteger(SUSTAINED_FANOUT) || SUSTAINED_FANOUT < 1)
  throw new Error('BENCH_SUSTAINED_FANOUT must be a whole number, 1 or more');
/**
 * The receiver answers in milliseconds, so the bench's subscriptions allow it 5 s: the
 * setting that puts attempts on the local tier (LOCAL_ATTEMPT_MAX_MS). BENCH_TIMEOUT_MS=15000
 * (the API's default) measures the remote tier instead.
 */
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? LOCAL_ATTEMPT_MAX_MS);
/** The worker's activity concurrency: the baseline loop uses the same number of callers. */
const DELIVERY_CONCURRENCY = 50;
/**
 * BENCH_SCENARIOS=sustained,stepped runs only those (the baseline always runs: every ratio needs
 * it), and BENCH_FANOUTS=10 only those stepped ladders: a before/after of one change on the
 * scenarios it touches, in minutes instead of the whole run.
 */
const SCENARIOS = process.env.BENCH_SCENARIOS?.split(',').map((s) => s.trim());
const want = (scenario: string) => !SCENARIOS || SCENARIOS.includes(scenario);
const FANOUTS = process.env.BENCH_FANOUTS?.split(',').map(Number);
/** Events sent to each destination kind in the `destinations` scenario. */
const DESTINATION_EVENTS = process.env.BENCH_DESTINATION_EVENTS ? Number(process.env.BENCH_DESTINATION_EVENTS) : undefined;

const plan = QUICK
  ? {
      baselineMs: 3_000,
      ingestSingle: [10],
      ingestFixedRate: { rate: 200, ms: 5_000 },
      ingestBatch: [2],
      ingestMs: 5_000,
      e2eRates: [5, 10],
      e2eMs: 8_000,
      holdMs: 0,
      importEvents: 2_000,
      fanout: [1, 10, 100],
      sustainedMs: 15_000,
      sustainedRate: SUSTAINED_RATE,
      stepped: { rates: [5, 10, 20, 35, 50, 75], stepMs: 8_000, fanouts: [0, 1, 10] },
      floorCost: [
        { fanout: 0, offeredPerSecond: 150, workflows: 1_500 },
        { fanout: 10, offeredPerSecond: 60, workflows: 600 },
      ],
      destinationEvents: DESTINATION_EVENTS ?? 100,
    }
  : {
      baselineMs: 15_000,
      ingestSingle: [1, 10, 50],
      ingestFixedRate: { rate: 200, ms: 10_000 },
      ingestBatch: [1, 4],
      ingestMs: 10_000,
      // The issue's 50/s among them; this 2-core microVM holds less (see docs/benchmarks.md).
      e2eRates: [10, 20, 50],
      e2eMs: 20_000,
      holdMs: 60_000,
      importEvents: 20_000,
      fanout: [1, 10, 100, 1000],
      sustainedMs: 300_000,
      sustainedRate: SUSTAINED_RATE,
      stepped: { rates: [2, 5, 10, 20, 50, 100, 200], stepMs: 20_000, fanouts: [0, 1, 10] },
      floorCost: [
        { fanout: 0, offeredPerSecond: 150, workflows: 4_500 },
        { fanout: 10, offeredPerSecond: 60, workflows: 1_800 },
      ],
      destinationEvents: DESTINATION_EVENTS ?? 1_000,
    };

const secret = `whsec_${randomBytes(24).toString('base64')}`;
const bars = new MultiBar(
  {
    format: ' {scenario} [{bar}] {percentage}% | {value}/{total} {unit} | {info}',
    hideCursor: true,
    noTTYOutput: true,
    notTTYSchedule: 5_000,
    clearOnComplete: false,
  },
  Presets.shades_classic,
);
function progress(scenario: string, total: number, unit: string) {
  const bar = bars.create(total, 0, { scenario: scenario.padEnd(28), unit, info: '' });
  return {
    update: (value: number, info = '') => bar.update(Math.min(total, Math.round(value)), { info }),
    done: (info = '') => {
      bar.update(total, { info });
      bar.stop();
    },
  };
}

function eventBody(run: string, type: string, i: number, extra: Record<string, unknown> = {}) {
  // The receiver reads `run` and `sentAt` back from the delivered body.
  return { type, subject: { type: 'bench', id: `s${i % 50}` }, actor: 'bench', data: { run, sentAt: Date.now(), i, ...extra } };
}

async function main() {
  const started = new Date();
  console.log(`Herald bench${QUICK ? ' (QUICK)' : ''}: ${os.cpus().length} cores, ${WORKERS} worker(s), store FerretDB on ${STORE}`);
  const receiver = new BenchReceiver({ secret, verifyEvery: 20 });
  await receiver.start();
  console.log('Starting the production-shaped stack (Temporal server on PostgreSQL)...');
  const stack = await ProductionStack.start({
    workers: WORKERS,
    store: STORE,
    env: { HERALD_INGEST_RATE: '1000000', HERALD_MAX_SUBSCRIPTIONS: '100000' },
    workerNodeArgs: [
      ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve('bench/results/profiles')}`] : []),
      // Node flags to try on the worker alone (e.g. a GC setting), for A/B runs.
      ...(process.env.BENCH_WORKER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
    ],
    apiNodeArgs: PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve('bench/results/profiles/api')}`] : [],
  });
  console.log(`  Temporal ${stack.temporalAddress}, Web UI ${stack.temporalUiUrl}, API ${stack.apiUrl}, data ${stack.dataDir}`);
  const http = new HeraldHttp(stack.apiUrl, 256);
  const temporal = new Client({ connection: await Connection.connect({ address: stack.temporalAddress }) });
  const rssSamples: NonNullable<BenchResults['sustained']>['samples'] = [];
  const results = {
    startedAt: started.toISOString(),
    quick: QUICK,
    machine: machine(),
    workers: WORKERS,
    store: STORE,
    storeBuild: storeBuild(),
  } as BenchResults;

  const running = (workflows: string) => temporal.workflow.count(`${workflows} AND ExecutionStatus = 'Running'`).then((c) => c.count);
  /**
   * Lets the previous scenario's workflows finish so it does not slow the next one; answers how
   * long that took (to within `pollMs`), null when some still ran after `timeoutMs`.
   */
  async function drain(
    what: string,
    timeoutMs = 180_000,
    workflows = `WorkflowType = 'deliverEvent'`,
    pollMs = 1_000,
  ): Promise<number | null> {
    const bar = progress(`drain after ${what}`, 1, 'idle');
    const started = Date.now();
    const deadline = started + timeoutMs;
    let left = await running(workflows);
    while (left > 0 && Date.now() < deadline) {
      bar.update(0, `${left} workflows running`);
      await sleep(pollMs);
      left = await running(workflows);
    }
    bar.done(left > 0 ? `${left} still running after ${timeoutMs / 1000}s` : 'idle');
    return left > 0 ? null : Date.now() - started;
  }

  try {
    // Baseline: the same deliveries, POSTed by a plain loop straight to the receiver.
    {
      const agent = new Agent({ connections: DELIVERY_CONCURRENCY, keepAliveTimeout: 30_000 });
      const bar = progress('baseline (direct POST)', plan.baselineMs / 1000, 's');
      let i = 0;
      const r = await closedLoop({
        concurrency: DELIVERY_CONCURRENCY,
        durationMs: plan.baselineMs,
        task: async () => {
          const body = JSON.stringify({ id: `evt_baseline_${i}`, ...eventBody('baseline', 'bench.baseline', i++) });
          const msgId = `msg_baseline_${i}`;
          const ts = Math.floor(Date.now() / 1000);
          const res = await request(`${receiver.url}/baseline`, {
            method: 'POST',
            dispatcher: agent,
            headers: {
              'content-type': 'application/json',
              'webhook-id': msgId,
              'webhook-timestamp': String(ts),
              'webhook-signature': sign(secret, msgId, ts, body),
            },
            body,
          });
          await res.body.dump();
          if (res.statusCode !== 200) throw new Error(`receiver answered ${res.statusCode}`);
        },
        onTick: (ms, res) => bar.update(ms / 1000, `${rate(res.ok, ms)}/s`),
      });
      await agent.close();
      results.baseline = {
        deliveriesPerSecond: rate(r.ok, r.elapsedMs),
        latency: summarize(r.latencies),
        concurrency: DELIVERY_CONCURRENCY,
      };
      bar.done(`${results.baseline.deliveriesPerSecond}/s, p50 ${ms(results.baseline.latency.p50)}`);
    }

    // Ingest: no subscription matches, so this measures the API and workflow start alone.
    if (want('ingest')) {
      const ingestKey = await http.tenantKey(stack.adminKey, 'bench-ingest');
      const ingest: NonNullable<BenchResults['ingest']> = (results.ingest = []);
      const ingestOnce =
        (events: number, later = false) =>
        async () => {
          const body =
            events === 1
              ? eventBody('ingest', 'bench.ingest', 0)
              : { events: Array.from({ length: events }, (_, i) => eventBody('ingest', 'bench.ingest', i)) };
          const res = await http.call('POST', '/v1/events', ingestKey, body, later ? { prefer: 'respond-async' } : {});
          if (res.status !== 202) throw new Error(`ingest answered ${res.status}`);
          if (later && res.headers['preference-applied'] !== 'respond-async') throw new Error('the batch was not accepted to start later');
        };
      const recordIngest = (mode: string, batch: number, level: number, r: LoadResult) => {
        const entry: (typeof ingest)[number] = {
          mode,
          batchSize: batch,
          level,
          requests: r.ok,
          failed: r.failed,
          eventsPerSecond: rate(r.ok * batch, r.elapsedMs),
          latency: summarize(r.latencies),
          errors: r.errors,
        };
        ingest.push(entry);
        return entry;
      };
      for (const concurrency of plan.ingestSingle) {
        const bar = progress(`ingest single c=${concurrency}`, plan.ingestMs / 1000, 's');
        const r = await closedLoop({
          concurrency,
          durationMs: plan.ingestMs,
          task: ingestOnce(1),
          onTick: (t, res) => bar.update(t / 1000, `${rate(res.ok, t)} ev/s`),
        });
        const e = recordIngest('closed', 1, concurrency, r);
        bar.done(`${e.eventsPerSecond} ev/s, p99 ${ms(e.latency.p99)}`);
        await drain('ingest');
      }
      {
        const { rate: offered, ms: duration } = plan.ingestFixedRate;
        const bar = progress(`ingest single ${offered} req/s`, duration / 1000, 's');
        const r = await openLoop({
          rate: offered,
          durationMs: duration,
          task: ingestOnce(1),
          onTick: (t, res) => bar.update(t / 1000, `${res.ok} ok`),
        });
        const e = recordIngest('fixed-rate', 1, offered, r);
        bar.done(`p50 ${ms(e.latency.p50)} p99 ${ms(e.latency.p99)}`);
        await drain('ingest');
      }
      // Then the same batches with `Prefer: respond-async`: answered once one workflow holding the
      // batch has started, which starts the events' workflows after the answer.
      for (const [concurrency, later] of [
        ...plan.ingestBatch.map((c) => [c, false] as const),
        ...plan.ingestBatch.map((c) => [c, true] as const),
      ]) {
        const bar = progress(`ingest batch500${later ? ' async' : ''} c=${concurrency}`, plan.ingestMs / 1000, 's');
        const r = await closedLoop({
          concurrency,
          durationMs: plan.ingestMs,
          task: ingestOnce(500, later),
          onTick: (t, res) => bar.update(t / 1000, `${rate(res.ok * 500, t)} ev/s`),
        });
        const e = recordIngest(later ? 'closed, respond-async' : 'closed', 500, concurrency, r);
        bar.done(`${e.eventsPerSecond} ev/s, p99 ${ms(e.latency.p99)}`);
        // The audit's catch-up: the batches' events (none matches a subscription) all recorded and
        // their runs closed, from the first batch sent to the last run closed.
        const drainMs = await drain('ingest batches', 600_000, undefined, 250);
        if (drainMs !== null) {
          const seconds = (r.elapsedMs + drainMs) / 1000;
          e.catchUp = { events: r.ok * 500, seconds, eventsPerSecond: rate(r.ok * 500, r.elapsedMs + drainMs) };
        }
      }
    }

    // End-to-end: ingest → receipt at fixed offered rates, one subscription.
    if (want('e2e')) {
      const e2eKey = await http.tenantKey(stack.adminKey, 'bench-e2e');
      await http.subscribe(e2eKey, `${receiver.url}/e2e`, ['bench.e2e'], secret, TIMEOUT_MS);
      results.e2e = [];
      const e2eRun = async (offered: number, duration: number, label: string) => {
        const run = `e2e-${label}`;
        const bar = progress(`end-to-end ${label}`, duration / 1000, 's');
        const r = await openLoop({
          rate: offered,
          durationMs: duration,
          task: async (i) => {
            const res = await http.call('POST', '/v1/events', e2eKey, eventBody(run, 'bench.e2e', i));
            if (res.status !== 202) throw new Error(`ingest answered ${res.status}`);
          },
          onTick: (t) => bar.update(t / 1000, `${receiver.received(run)} received`),
        });
        await receiver.until(() => receiver.received(run) >= r.ok, 120_000);
        const receipts = receiver.receiptsOf(run);
        const entry = {
          offeredPerSecond: offered,
          durationS: duration / 1000,
          accepted: r.ok,
          rejected: r.failed,
          received: receipts.length,
          latency: summarize(receipts.map((x) => x.receivedAt - x.sentAt)),
        };
        bar.done(`p50 ${ms(entry.latency.p50)} p95 ${ms(entry.latency.p95)} p99 ${ms(entry.latency.p99)}`);
        await drain('end-to-end');
        return entry;
      };
      for (const offered of plan.e2eRates) results.e2e.push(await e2eRun(offered, plan.e2eMs, `${offered}/s`));
      if (plan.holdMs > 0) {
        // The highest rate held for a minute with p99 < 1 s: start above the best stepped rate.
        const held = (e: (typeof results.e2e)[number]) => e.latency.p99 < 1_000 && e.received >= e.accepted;
        const passing = results.e2e.filter(held);
        let best = passing.length ? Math.max(...passing.map((e) => e.offeredPerSecond)) : 0;
        let trial = best ? Math.round(best * 1.5) : 10;
        results.e2eHold = { rate: 0, trials: [] };
        for (let i = 0; i < (QUICK ? 0 : 2); i++) {
          const entry = await e2eRun(trial, plan.holdMs, `hold ${trial}/s`);
          results.e2eHold.trials.push(entry);
          if (held(entry)) {
            best = trial;
            trial = Math.round(trial * 1.5);
          } else {
            trial = Math.round((best + trial) / 2);
            if (trial <= best) break;
          }
        }
        // The stepped rates ran for 20 s only: when no minute-long trial passed, the best of them
        // must hold for a minute too before it is reported, else two thirds of it is tried.
        for (let i = 0; best > 0 && !results.e2eHold.trials.some(held) && i < 2; i++) {
          const entry = await e2eRun(best, plan.holdMs, `hold ${best}/s`);
          results.e2eHold.trials.push(entry);
          if (!held(entry)) best = i === 0 ? Math.round((best * 2) / 3) : 0;
        }
        results.e2eHold.rate = best;
      }
    }

    // Import: `herald import` of an NDJSON file to one subscription (the 20,000-event run that
    // `make test` once made; its test now proves the behaviour on 2,000).
    if (want('import')) {
      const count = plan.importEvents;
      const key = await http.tenantKey(stack.adminKey, 'bench-import');
      await http.subscribe(key, `${receiver.url}/import`, ['bench.import'], secret, TIMEOUT_MS);
      const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-import-'));
      const file = path.join(dir, 'events.ndjson');
      const run = 'import';
      writeFileSync(file, Array.from({ length: count }, (_, i) => JSON.stringify(eventBody(run, 'bench.import', i))).join('\n') + '\n');
      const bar = progress(`import ${count} events`, count, 'delivered');
      const t0 = Date.now();
      // A child process, not spawnSync: the receiver answering the deliveries runs in this one.
      const cli = spawn(process.execPath, [path.resolve(__dirname, '../src/cli/main.js'), 'import', file, '--json'], {
        env: { ...process.env, HERALD_URL: stack.apiUrl, HERALD_API_KEY: key },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      cli.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      cli.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((resolve) => cli.once('exit', resolve));
      const importedMs = Date.now() - t0;
      if (code !== 0) throw new Error(`herald import exited ${code}: ${stderr}`);
      // A batch whose answer was lost is sent again: its events come back as duplicates, accepted all the same.
      const parsed = JSON.parse(stdout) as { accepted: number; duplicates: number };
      const summary = { accepted: parsed.accepted + parsed.duplicates };
      const delivered = await receiver.until(() => {
        bar.update(receiver.received(run));
        return receiver.received(run) >= summary.accepted;
      }, 600_000);
      const deliveredMs = Date.now() - t0;
      results.import = {
        events: count,
        accepted: summary.accepted,
        importEventsPerSecond: rate(summary.accepted, importedMs),
        delivered: receiver.received(run),
        complete: delivered,
        lastDeliveryAfterImportMs: deliveredMs - importedMs,
        deliveriesPerSecond: rate(receiver.received(run), deliveredMs),
      };
      bar.done(
        `${results.import.importEventsPerSecond} ev/s imported, all delivered ${ms(results.import.lastDeliveryAfterImportMs)} after the import`,
      );
      rmSync(dir, { recursive: true, force: true });
      await drain('import');
    }

    // Fan-out: one event to N subscriptions, time to the last receipt.
    if (want('fanout')) {
      const fanKey = await http.tenantKey(stack.adminKey, 'bench-fanout');
      const maxFan = Math.max(...plan.fanout);
      {
        const bar = progress('fan-out: subscribing', maxFan, 'subs');
        let made = 0;
        await closedLoopCount(8, maxFan, async (i) => {
          // Subscription i takes every fan-out size above i, so `bench.fanout.N` matches N of them.
          const types = plan.fanout.filter((n) => i < n).map((n) => `bench.fanout.${n}`);
          await http.subscribe(fanKey, `${receiver.url}/fanout`, types, secret, TIMEOUT_MS);
          bar.update(++made);
        });
        bar.done();
        await drain('subscribing'); // each create announced itself with a herald.subscription.created event
      }
      results.fanout = [];
      for (const n of plan.fanout) {
        const run = `fanout-${n}`;
        const bar = progress(`fan-out to ${n}`, n, 'receipts');
        const sent = Date.now();
        await http.expect(202, 'POST', '/v1/events', fanKey, eventBody(run, `bench.fanout.${n}`, 0));
        const done = await receiver.until(() => {
          bar.update(receiver.received(run));
          return receiver.received(run) >= n;
        }, 180_000);
        const receipts = receiver.receiptsOf(run);
        const last = Math.max(...receipts.map((r) => r.receivedAt));
        const entry = {
          subscriptions: n,
          received: receipts.length,
          complete: done,
          firstReceiptMs: Math.min(...receipts.map((r) => r.receivedAt)) - sent,
          lastReceiptMs: last - sent,
        };
        results.fanout.push(entry);
        bar.done(`last receipt after ${ms(entry.lastReceiptMs)}`);
        await drain('fan-out');
      }
    }

    // Destinations: N events to one subscription of each kind, one kind at a time, timed until
    // a consumer of that kind has seen N distinct webhook-ids.
    if (want('destinations')) {
      const key = await http.tenantKey(stack.adminKey, 'bench-destinations');
      results.destinations = { events: plan.destinationEvents, kinds: [] };
      for (const kind of ['webhook', ...BROKER_CHANNELS] as const) {
        const run = `dest-${kind}-${randomBytes(3).toString('hex')}`;
        const type = `bench.destinations.${kind}`;
        const consumer =
          kind === 'webhook'
            ? {
                target: null,
                distinct: () => Promise.resolve(new Set(receiver.receiptsOf(run).map((r) => r.messageId)).size),
                close: () => Promise.resolve(),
              }
            : await brokerConsumer(kind, run);
        if (kind === 'webhook') await http.subscribe(key, `${receiver.url}/destinations`, [type], secret, TIMEOUT_MS);
        else
          await http.expect(201, 'POST', '/v1/subscriptions', key, {
            channel: kind,
            eventTypes: [type],
            target: consumer.target,
            secret,
            timeoutMs: TIMEOUT_MS,
          });
        const bar = progress(`destinations: ${kind}`, plan.destinationEvents, 'consumed');
        const sent = Date.now();
        await closedLoopCount(8, plan.destinationEvents, (i) =>
          http.expect(202, 'POST', '/v1/events', key, eventBody(run, type, i)).then(() => undefined),
        );
        const acceptedMs = Date.now() - sent;
        let consumed = await consumer.distinct();
        const deadline = Date.now() + 120_000;
        while (consumed < plan.destinationEvents && Date.now() < deadline) {
          bar.update(consumed);
          await sleep(100);
          consumed = await consumer.distinct();
        }
        const elapsedMs = Date.now() - sent;
        await consumer.close();
        const entry = { kind, consumed, acceptedMs, elapsedMs, deliveriesPerSecond: rate(consumed, elapsedMs) };
        results.destinations.kinds.push(entry);
        bar.done(`${entry.deliveriesPerSecond}/s, ${consumed} in ${ms(elapsedMs)}`);
        await drain(`destinations: ${kind}`);
      }
    }

    /** The workers' CPU ms so far by thread name; `(ended threads, rounding)`: the workers' total less their live threads' (each read in ticks of 10 ms). */
    const workerThreadSnapshot = (): Record<string, number> => {
      const byName: Record<string, number> = {};
      for (const w of stack.workers) {
        for (const [name, used] of Object.entries(w.threadCpuMs())) byName[name] = (byName[name] ?? 0) + used;
      }
      const live = Object.values(byName).reduce((sum, used) => sum + used, 0);
      return { ...byName, '(ended threads, rounding)': stack.workers.reduce((sum, w) => sum + w.cpuMs(), 0) - live };
    };
    const perDelivery = (atStart: Record<string, number>, atEnd: Record<string, number>, deliveries: number) =>
      Object.fromEntries(
        Object.entries(atEnd).map(([name, used]) => [
          name,
          Math.round(((used - (atStart[name] ?? 0)) / Math.max(1, deliveries)) * 100) / 100,
        ]),
      );
    /** CPU ms used so far by each part of the stack, to divide by the deliveries made between two snapshots. */
    const cpuSnapshot = (): Record<string, number> => ({
      temporal: stack.temporal.cpuMs(),
      // PostgreSQL split by database: Temporal's two and the store's (FerretDB's tables), and
      // nothing of other databases on the same server.
      'postgres (Temporal)': postgresCpuMs(stack.temporalDatabases),
      'postgres (store)': postgresCpuMs(stack.storeDatabases),
      store: stack.store.cpuMs(),
      worker: stack.workers.reduce((sum, w) => sum + w.cpuMs(), 0),
      api: stack.api.cpuMs(),
    });

    // Sustained: fan-out SUSTAINED_FANOUT (10) at a fixed offered rate; throughput, backlog, RSS and CPU.
    if (want('sustained')) {
      const key = await http.tenantKey(stack.adminKey, 'bench-sustained');
      const fanout = SUSTAINED_FANOUT;
      for (let i = 0; i < fanout; i++) await http.subscribe(key, `${receiver.url}/sustained`, ['bench.sustained'], secret, TIMEOUT_MS);
      const run = 'sustained';
      const bar = progress(`sustained fan-out ${fanout} @${plan.sustainedRate}/s`, plan.sustainedMs / 1000, 's');
      const cpuAtStart = cpuSnapshot();
      const threadsAtStart = workerThreadSnapshot();
      const t0 = Date.now();
      let lastCount = 0;
      let accepted = 0;
      const sampler = setInterval(() => {
        const count = receiver.received(run);
        const worker = stack.workers.reduce((sum, w) => sum + w.rss(), 0);
        rssSamples.push({
          t: (Date.now() - t0) / 1000,
          deliveriesPerSecond: count - lastCount,
          backlog: accepted * fanout - count,
          workerRssMb: mb(worker),
          apiRssMb: mb(stack.api.rss()),
        });
        lastCount = count;
      }, 1_000);
      const r = await openLoop({
        rate: plan.sustainedRate,
        durationMs: plan.sustainedMs,
        task: async (i) => {
          const res = await http.call('POST', '/v1/events', key, eventBody(run, 'bench.sustained', i));
          if (res.status !== 202) throw new Error(`ingest answered ${res.status}`);
          accepted += 1;
        },
        onTick: (t) => bar.update(t / 1000, `${rate(receiver.received(run), t)} deliveries/s`),
      });
      const windowEnd = Date.now();
      const cpuAtEnd = cpuSnapshot();
      const threadsAtEnd = workerThreadSnapshot();
      const inWindow = receiver.receiptsOf(run).filter((x) => x.receivedAt <= windowEnd).length;
      const backlogAtEnd = accepted * fanout - receiver.received(run);
      bar.done(`${rate(inWindow, windowEnd - t0)} deliveries/s, backlog ${backlogAtEnd}`);
      const drainBar = progress('sustained: backlog drain', accepted * fanout, 'deliveries');
      const drained = await receiver.until(
        () => {
          drainBar.update(receiver.received(run));
          return receiver.received(run) >= accepted * fanout;
        },
        QUICK ? 120_000 : 300_000,
      );
      clearInterval(sampler);
      const drainMs = Date.now() - windowEnd;
      drainBar.done(drained ? `drained in ${ms(drainMs)}` : `not drained after ${ms(drainMs)}`);
      const steady = rssSamples.filter((s) => s.t <= plan.sustainedMs / 1000);
      results.sustained = {
        offeredEventsPerSecond: plan.sustainedRate,
        fanout,
        durationS: plan.sustainedMs / 1000,
        acceptedEvents: accepted,
        rejectedEvents: r.failed,
        deliveriesPerSecond: rate(inWindow, windowEnd - t0),
        backlogAtEnd,
        drained,
        drainMs,
        latency: summarize(receiver.receiptsOf(run).map((x) => x.receivedAt - x.sentAt)),
        duplicates: duplicates(receiver, run),
        workerRssMbMax: Math.max(0, ...steady.map((s) => s.workerRssMb)),
        apiRssMbMax: Math.max(0, ...steady.map((s) => s.apiRssMb)),
        cpuMsPerDelivery: perDelivery(cpuAtStart, cpuAtEnd, inWindow),
        workerThreadCpuMsPerDelivery: perDelivery(threadsAtStart, threadsAtEnd, inWindow),
        samples: rssSamples,
      };
    }

    // Stepped fan-out: the floor, then Herald, climb the same ladder of offered rates per F.
    // The floor (bench/floor/): a bare workflow per event on the same server, for the stepped
    // ladders and the floor's own cost.
    // Herald's attempts to receivers allowed at most LOCAL_ATTEMPT_MAX_MS are local
    // activities, as every floor delivery is: the comparison is local against local, also
    // when BENCH_TIMEOUT_MS moves the other scenarios to the remote tier.
    const localTimeoutMs = LOCAL_ATTEMPT_MAX_MS;
    const floorWorkflows = `WorkflowType = '${floorDeliver.name}'`;
    const floorTarget = (fanout: number, tag = 'stepped'): LadderTarget => ({
      runTag: (rate) => `${tag}-floor-f${fanout}-${rate}`,
      offer: async (run, i) => {
        const workflowId = `floor_${run}_${i}`;
        const event = { id: `evt_${workflowId}`, timestamp: new Date().toISOString(), ...eventBody(run, 'bench.stepped', i) };
        await temporal.workflow.start(floorDeliver, {
          taskQueue: FLOOR_TASK_QUEUE,
          workflowId,
          args: [{ url: `${receiver.url}/floor`, timeoutMs: localTimeoutMs, fanout, event }],
        });
        return { eventId: event.id, workflowId, sentAt: event.data.sentAt };
      },
      workflows: floorWorkflows,
      drain: async (what) => void (await drain(what, 180_000, floorWorkflows)),
      cpu: () => ({
        temporal: stack.temporal.cpuMs(),
        'postgres (Temporal)': postgresCpuMs(stack.temporalDatabases),
        'floor worker': floorWorker.cpuMs(),
      }),
    });
    const readyFile = path.join(stack.dataDir, 'floor-worker.ready');
    const floorWorker = new ManagedProcess(
      'floor-worker',
      process.execPath,
      [path.resolve(__dirname, 'floor/worker.js')],
      { TEMPORAL_ADDRESS: stack.temporalAddress, FLOOR_SIGNING_SECRET: secret, FLOOR_READY_FILE: readyFile },
      path.join(stack.dataDir, 'logs', 'floor-worker.log'),
      async () => {
        const deadline = Date.now() + 120_000;
        while (!existsSync(readyFile)) {
          if (Date.now() > deadline) throw new Error(`the floor worker did not get ready; see ${stack.dataDir}/logs/floor-worker.log`);
          await sleep(200);
        }
      },
    );

    // Floor cost: a fixed number of bare workflows offered faster than the server takes them;
    // the time until all closed gives the floor's throughput, and the CPU each process used
    // meanwhile, its cost per workflow. A Temporal setting is judged by these, not by one
    // held step of a ladder.
    if (want('floor-cost')) {
      results.floorCost = [];
      rmSync(readyFile, { force: true }); // ready once this start writes it, not an earlier scenario's start
      await floorWorker.start();
      try {
        for (const { fanout, offeredPerSecond, workflows } of plan.floorCost) {
          const target = floorTarget(fanout, 'cost');
          const run = target.runTag(offeredPerSecond);
          const bar = progress(`floor cost F=${fanout}`, workflows, 'offered');
          const cpu = () => ({
            temporal: stack.temporal.cpuMs(),
            'postgres (history)': postgresCpuMs(stack.temporalDatabases.slice(0, 1)),
            'postgres (visibility)': postgresCpuMs(stack.temporalDatabases.slice(1)),
            worker: floorWorker.cpuMs(),
          });
          const cpuAtStart = cpu();
          const t0 = Date.now();
          let offered = 0;
          await openLoop({
            rate: offeredPerSecond,
            durationMs: (workflows / offeredPerSecond) * 1000,
            task: async (i) => {
              await target.offer(run, i);
              offered += 1;
            },
            onTick: () => bar.update(offered),
          });
          await target.drain(`floor cost F=${fanout}`);
          const elapsedMs = Date.now() - t0;
          const cpuAtEnd = cpu();
          const perWorkflow = Object.fromEntries(
            Object.entries(cpuAtEnd).map(([name, used]) => [
              name,
              Math.round(((used - cpuAtStart[name as keyof typeof cpuAtStart]) / Math.max(1, offered)) * 100) / 100,
            ]),
          );
          results.floorCost.push({
            fanout,
            offeredPerSecond,
            workflows: offered,
            elapsedMs,
            workflowsPerSecond: rate(offered, elapsedMs),
            cpuMsPerWorkflow: perWorkflow,
          });
          bar.done(`${rate(offered, elapsedMs)} workflows/s, CPU ms per workflow ${JSON.stringify(perWorkflow)}`);
        }
      } finally {
        await floorWorker.stop();
      }
    }

    if (want('stepped')) {
      const { rates, stepMs } = plan.stepped;
      const fanouts = FANOUTS ?? plan.stepped.fanouts;
      const ladder = { rates, stepMs, receiver, temporal, progress };
      const timeoutMs = localTimeoutMs;
      const floorSteps = new Map<number, StepEntry[]>();
      // Only while the floor climbs: idle, it would still poll and take CPU from Herald's steps.
      rmSync(readyFile, { force: true }); // ready once this start writes it, not an earlier scenario's start
      await floorWorker.start();
      try {
        for (const fanout of fanouts)
          floorSteps.set(fanout, await climbLadder({ ...ladder, target: floorTarget(fanout), name: 'floor', fanout }));
      } finally {
        await floorWorker.stop();
      }

      results.stepped = { stepS: stepMs / 1000, graceS: GRACE_MS / 1000, p99LimitMs: P99_LIMIT_MS, rates, ladders: [] };
      for (const fanout of fanouts) {
        const tenant = `bench-stepped-${fanout}`;
        const key = await http.tenantKey(stack.adminKey, tenant);
        for (let k = 0; k < fanout; k++) await http.subscribe(key, `${receiver.url}/stepped`, ['bench.stepped'], secret, timeoutMs);
        await drain('subscribing');
        const heraldTarget: LadderTarget = {
          runTag: (rate) => `stepped-herald-f${fanout}-${rate}`,
          offer: async (run, i) => {
            const body = eventBody(run, 'bench.stepped', i);
            const res = await http.call<{ id: string; workflowId: string }>('POST', '/v1/events', key, body);
            if (res.status !== 202) throw new Error(`ingest answered ${res.status}`);
            return { eventId: res.body.id, workflowId: res.body.workflowId, sentAt: body.data.sentAt };
          },
          workflows: `WorkflowType = 'deliverEvent' AND HeraldTenant = '${tenant}'`,
          drain: async (what) => void (await drain(what)),
          cpu: cpuSnapshot,
        };
        const herald = await climbLadder({ ...ladder, target: heraldTarget, name: 'Herald', fanout });
        const floor = floorSteps.get(fanout)!;
        results.stepped.ladders.push({
          fanout,
          herald,
          floor,
          heraldHighestHeld: highestHeld(herald),
          floorHighestHeld: highestHeld(floor),
        });
      }
    }
    results.receiver = { ...receiver.counts };
  } finally {
    bars.stop();
    await http.close();
    await temporal.connection.close();
    await stack.stop({ keepData: process.env.BENCH_KEEP === '1' });
    await receiver.close();
  }

  results.finishedAt = new Date().toISOString();
  const dir = path.resolve('bench/results');
  mkdirSync(dir, { recursive: true });
  // To the second, so runs back to back keep their own files; BENCH_LABEL names what was measured.
  const label = process.env.BENCH_LABEL ? `-${process.env.BENCH_LABEL}` : '';
  const stamp = `${started.toISOString().slice(0, 19).replace(/:/g, '')}Z${QUICK ? '-quick' : ''}${label}`;
  const base = path.join(dir, stamp);
  writeFileSync(`${base}.json`, JSON.stringify(results, null, 2) + '\n');
  const md = markdownReport(results);
  writeFileSync(`${base}.md`, md);
  // The plot draws the end-to-end and sustained scenarios: a run without them has none.
  const plotted = !!results.e2e && !!results.sustained;
  if (plotted) {
    const plot = spawnSync(process.execPath, [path.resolve(__dirname, '../../bench/plot.mjs'), `${base}.json`, `${base}.png`], {
      stdio: 'inherit',
    });
    if (plot.status !== 0) console.error('the latency plot could not be drawn; the JSON and Markdown results are written');
  }
  console.log(`\n${md}\nResults: ${base}.json, ${base}.md${plotted ? `, ${base}.png` : ''}`);
  if (results.receiver.badSignatures > 0) {
    console.error(`${results.receiver.badSignatures} deliveries failed signature verification`);
    process.exitCode = 1;
  }
}

/** Runs `task(0..count-1)` with `concurrency` callers. */
async function closedLoopCount(concurrency: number, count: number, task: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

function duplicates(receiver: BenchReceiver, run: string): number {
  const ids = new Set<string>();
  let dup = 0;
  for (const r of receiver.receiptsOf(run)) {
    if (ids.has(r.messageId)) dup += 1;
    else ids.add(r.messageId);
  }
  return dup;
}

const rate = (count: number, elapsedMs: number) => Math.round((count / Math.max(1, elapsedMs)) * 1000 * 10) / 10;
const ms = (value: number) => (Number.isFinite(value) ? `${Math.round(value)} ms` : 'n/a');
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

/**
 * Which FerretDB wrapper this run used, by the binary's own hash: two runs meant to compare
 * builds can be checked to have run different ones (the stack's start may rebuild the wrapper in
 * `HERALD_TOOLS_DIR` from the working tree, and a tools directory's stamp can be set by hand).
 */
function storeBuild(): BenchResults['storeBuild'] {
  const binary = path.join(TOOLS_DIR, 'herald-ferretdb');
  return { binary, sha256: createHash('sha256').update(readFileSync(binary)).digest('hex').slice(0, 16) };
}

function machine() {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
  };
}

main().catch((err) => {
  bars.stop();
  console.error(err);
  process.exit(1);
});
