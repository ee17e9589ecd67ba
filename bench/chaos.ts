import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { HeraldHttp } from './herald-client';
import { openLoop, summarize, type LatencySummary } from './load';
import { BenchReceiver, type ReceiverMode } from './receiver';
import { ProductionStack, sleep, type ManagedProcess } from './stack';

/**
 * `make chaos`: the production-shaped stack with two workers under steady load while a seeded
 * fault script kills and restarts its processes and makes the receiver misbehave. Afterwards
 * every event the API acknowledged (202) must have reached every subscription, each duplicate
 * with its original `webhook-id`. Exits non-zero when anything is missing.
 *
 *   CHAOS_SEED      the timetable's seed (default: random, printed)
 *   CHAOS_SECONDS   how long the load runs (default 180; QUICK=1: 60)
 *   CHAOS_RATE      events per second (default 10), each to FANOUT=3 subscriptions: within what
 *                   this 2-core stack sustains, so recovery times measure the faults and not a
 *                   backlog; CHAOS_RATE=50 runs the same faults under overload
 */

const QUICK = process.env.QUICK === '1';
const SEED = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : Math.floor(Math.random() * 2 ** 31);
const LOAD_MS = Number(process.env.CHAOS_SECONDS ?? (QUICK ? 60 : 180)) * 1000;
const RATE = Number(process.env.CHAOS_RATE ?? 10);
const FANOUT = 3;
/** How long the backlog may take to drain after the load stops before anything counts as missing. */
const DRAIN_MS = Number(process.env.CHAOS_DRAIN_SECONDS ?? 300) * 1000;

/** A small seeded generator (mulberry32), so a seed reproduces its timetable. */
function seeded(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Fault {
  kind: string;
  /** Offset from the start of the load. */
  atMs: number;
  /** How long the fault lasts before things are put right. */
  durationMs: number;
  lane: 'process' | 'receiver';
  startedAt?: number;
  endedAt?: number;
  recovery?: LatencySummary & { events: number };
}

/** What a run writes to bench/results, as JSON and as Markdown. */
interface ChaosReport {
  seed: number;
  startedAt: string;
  loadSeconds: number;
  rate: number;
  fanout: number;
  finishedAt: string;
  eventsAcknowledged: number;
  /** Requests the producer would resend: answered with another status than 202, or not at all. */
  eventsNotAcknowledged: { refused: number; failed: number; statuses: Record<string, number> };
  deliveriesExpected: number;
  delivered: number;
  missing: number;
  missingSample: string[];
  duplicates: number;
  duplicateRate: number;
  duplicatesWithAnotherWebhookId: number;
  receiver: BenchReceiver['counts'];
  drainMs: number;
  workflowsStillRunning: number;
  restarts: Record<string, number>;
  faults: {
    kind: string;
    atS: number;
    durationS: number;
    tookS: number | null;
    recoveryP99Ms: number | null;
    recoveryMaxMs: number | null;
    eventsInWindow: number;
  }[];
}

/** Process faults take turns, as do receiver faults; the two lanes overlap. */
function timetable(random: () => number): Fault[] {
  const processFaults: Array<[string, number]> = [
    ['kill -9 a worker', 0],
    ['kill -9 the API', 0],
    ['restart the Temporal server', 0],
    ['stop the store for 10 s', 10_000],
  ];
  const receiverFaults: Array<[string, number]> = [
    ['receiver answers 500', QUICK ? 5_000 : 15_000],
    ['receiver never answers', QUICK ? 5_000 : 15_000],
    ['receiver closes connections', QUICK ? 5_000 : 15_000],
    ['receiver takes 20 s to answer', QUICK ? 5_000 : 20_000],
  ];
  const shuffle = <T>(items: T[]) => {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  };
  const lay = (faults: Array<[string, number]>, lane: Fault['lane'], budget: number): Fault[] => {
    // Spread the faults over the load window in a random order with random gaps, leaving
    // the first and last tenth quiet so the run starts and ends in a steady state.
    const start = LOAD_MS * 0.1;
    const slot = (LOAD_MS * 0.8) / faults.length;
    return shuffle(faults).map(([kind, durationMs], i) => ({
      kind,
      durationMs,
      lane,
      atMs: Math.round(start + i * slot + random() * Math.max(0, slot - durationMs - budget)),
    }));
  };
  return [...lay(processFaults, 'process', 8_000), ...lay(receiverFaults, 'receiver', 0)].sort((a, b) => a.atMs - b.atMs);
}

async function inject(fault: Fault, stack: ProductionStack, receiver: BenchReceiver, random: () => number): Promise<void> {
  const killAndStart = async (p: ManagedProcess, downMs: number) => {
    await p.stop('SIGKILL');
    if (downMs) await sleep(downMs);
    p.restarts += 1;
    await p.start();
  };
  const receiverMode = async (mode: ReceiverMode) => {
    receiver.mode = mode;
    await sleep(fault.durationMs);
    receiver.mode = { kind: 'ok' };
  };
  switch (fault.kind) {
    case 'kill -9 a worker':
      return killAndStart(stack.workers[Math.floor(random() * stack.workers.length)], 1_000);
    case 'kill -9 the API':
      return killAndStart(stack.api, 1_000);
    case 'restart the Temporal server':
      return killAndStart(stack.temporal, 0);
    case 'stop the store for 10 s':
      return killAndStart(stack.store, fault.durationMs);
    case 'receiver answers 500':
      return receiverMode({ kind: 'status', status: 500 });
    case 'receiver never answers':
      return receiverMode({ kind: 'hang' });
    case 'receiver closes connections':
      return receiverMode({ kind: 'close' });
    case 'receiver takes 20 s to answer':
      return receiverMode({ kind: 'slow', delayMs: 20_000 });
    default:
      throw new Error(`unknown fault ${fault.kind}`);
  }
}

async function main() {
  const random = seeded(SEED);
  const faults = timetable(random);
  const runTag = `chaos-${SEED}`;
  console.log(`Herald chaos: seed ${SEED}, ${LOAD_MS / 1000} s at ${RATE} events/s, fan-out ${FANOUT}, two workers`);
  for (const f of faults) console.log(`  +${(f.atMs / 1000).toFixed(1)} s  ${f.kind}${f.durationMs ? ` (${f.durationMs / 1000} s)` : ''}`);

  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const receiver = new BenchReceiver({ secret, verifyEvery: 1 });
  await receiver.start();
  const stack = await ProductionStack.start({ workers: 2, store: 'postgresql', env: { HERALD_INGEST_RATE: '1000000' } });
  console.log(`  Temporal ${stack.temporalAddress}, Web UI ${stack.temporalUiUrl}, API ${stack.apiUrl}, logs ${stack.dataDir}/logs`);
  const http = new HeraldHttp(stack.apiUrl, 64);
  const temporal = new Client({ connection: await Connection.connect({ address: stack.temporalAddress }) });
  const setup = {
    seed: SEED,
    startedAt: new Date().toISOString(),
    loadSeconds: LOAD_MS / 1000,
    rate: RATE,
    fanout: FANOUT,
  };
  let exitCode = 0;
  let report: ChaosReport;
  try {
    // A retry schedule that keeps trying through every fault of the run (the default waits
    // minutes between later attempts, which would only make the drain slow): 21 attempts over
    // about four minutes. Six over 30 s ran out in a 60 s run at 20 events/s whose seed put
    // the receiver's faults back to back (bench/results/chaos-2026-12-06T0053Z-seed1413224566.md).
    const subscriptions: string[] = [];
    for (let i = 0; i < FANOUT; i++) {
      const sub = await http.expect<{ id: string }>(201, 'POST', '/v1/subscriptions', stack.adminKey, {
        url: `${receiver.url}/chaos/${i}`,
        eventTypes: ['chaos.tick'],
        channel: 'webhook',
        secret,
        timeoutMs: 5_000,
        retry: { schedule: ['1s', '2s', '4s', '8s', ...Array<string>(16).fill('15s')], maxAttempts: 50 },
      });
      subscriptions.push(sub.id);
    }

    const acknowledged = new Map<string, number>(); // event id → when the 202 arrived
    const unacknowledged = { refused: 0, failed: 0, statuses: {} as Record<string, number> };
    const loadStart = Date.now();
    // Each lane takes its faults one at a time, a few seconds apart: a process restarting
    // while another is down could not start (a worker needs Temporal and the store), and the
    // run would measure that instead of Herald.
    const lane = async (which: Fault['lane']) => {
      for (const fault of faults.filter((f) => f.lane === which)) {
        await sleep(Math.max(0, loadStart + fault.atMs - Date.now()));
        fault.startedAt = Date.now();
        console.log(`  +${((fault.startedAt - loadStart) / 1000).toFixed(1)} s  fault: ${fault.kind}`);
        await inject(fault, stack, receiver, random);
        fault.endedAt = Date.now();
        console.log(`  +${((fault.endedAt - loadStart) / 1000).toFixed(1)} s  cleared: ${fault.kind}`);
        await sleep(3_000);
      }
    };
    const faultRuns = [lane('process'), lane('receiver')];
    const load = openLoop({
      rate: RATE,
      durationMs: LOAD_MS,
      maxInFlight: 5_000,
      task: async (i) => {
        const id = `${runTag}-${i}`;
        try {
          const res = await http.call('POST', '/v1/events', stack.adminKey, {
            id,
            type: 'chaos.tick',
            data: { run: runTag, sentAt: Date.now(), i },
          });
          if (res.status === 202) acknowledged.set(id, Date.now());
          else {
            unacknowledged.refused += 1;
            unacknowledged.statuses[res.status] = (unacknowledged.statuses[res.status] ?? 0) + 1;
          }
        } catch {
          unacknowledged.failed += 1; // the API was down: the producer would resend
        }
      },
      onTick: (t) => {
        if (Math.round(t) % 10_000 < 250)
          console.log(`  +${(t / 1000).toFixed(0)} s  acknowledged ${acknowledged.size}, delivered ${receiver.received(runTag)}`);
      },
    });
    await Promise.all([load, ...faultRuns]);
    const expected = acknowledged.size * FANOUT;
    console.log(`Load done: ${acknowledged.size} events acknowledged; waiting up to ${DRAIN_MS / 1000} s for ${expected} deliveries...`);
    const drainStart = Date.now();
    const pairs = () => deliveredPairs(receiver, runTag, acknowledged);
    while (Date.now() - drainStart < DRAIN_MS && pairs().size < expected) await sleep(1_000);
    // Late duplicates from attempts still in flight land within a few seconds.
    await sleep(5_000);
    const drainMs = Date.now() - drainStart;

    const delivered = pairs();
    const missing: string[] = [];
    for (const id of acknowledged.keys()) for (let s = 0; s < FANOUT; s++) if (!delivered.has(`${id}/${s}`)) missing.push(`${id}/${s}`);
    // Every receipt of one (event, subscription) must carry one webhook-id.
    const idsPerPair = new Map<string, Set<string>>();
    for (const r of receiver.receiptsOf(runTag)) {
      const key = `${r.eventId}/${r.path.split('/').pop()}`;
      const ids = idsPerPair.get(key) ?? new Set<string>();
      ids.add(r.messageId);
      idsPerPair.set(key, ids);
    }
    const pairsWithTwoIds = [...idsPerPair.values()].filter((s) => s.size > 1).length;
    const answered = receiver.receiptsOf(runTag).length;
    const duplicates = answered - idsPerPair.size;
    for (const fault of faults) fault.recovery = recovery(fault, receiver, runTag, acknowledged);
    const running = await temporal.workflow.count(`WorkflowType = 'deliverEvent' AND ExecutionStatus = 'Running'`);

    report = {
      ...setup,
      finishedAt: new Date().toISOString(),
      eventsAcknowledged: acknowledged.size,
      eventsNotAcknowledged: unacknowledged,
      deliveriesExpected: expected,
      delivered: [...delivered].length,
      missing: missing.length,
      missingSample: missing.slice(0, 20),
      duplicates,
      duplicateRate: expected ? duplicates / expected : 0,
      duplicatesWithAnotherWebhookId: pairsWithTwoIds,
      receiver: receiver.counts,
      drainMs,
      workflowsStillRunning: running.count,
      restarts: Object.fromEntries(stack.processes().map((p) => [p.name, p.restarts])),
      faults: faults.map(({ kind, atMs, durationMs, startedAt, endedAt, recovery: r }) => ({
        kind,
        atS: atMs / 1000,
        durationS: durationMs / 1000,
        tookS: startedAt && endedAt ? (endedAt - startedAt) / 1000 : null,
        recoveryP99Ms: r?.p99 ?? null,
        recoveryMaxMs: r?.max ?? null,
        eventsInWindow: r?.events ?? 0,
      })),
    };
    if (missing.length > 0 || pairsWithTwoIds > 0 || receiver.counts.badSignatures > 0) exitCode = 1;
  } finally {
    await http.close();
    await temporal.connection.close();
    await stack.stop({ keepData: process.env.CHAOS_KEEP === '1' || exitCode !== 0 });
    await receiver.close();
  }
  const dir = path.resolve('bench/results');
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `chaos-${report.startedAt.slice(0, 19).replaceAll(':', '')}Z-seed${SEED}${QUICK ? '-quick' : ''}`);
  writeFileSync(`${base}.json`, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(`${base}.md`, chaosMarkdown(report));
  console.log(`\n${chaosMarkdown(report)}\nReport: ${base}.json, ${base}.md`);
  if (exitCode)
    console.error(
      `CHAOS FAILED: ${report.missing} of ${report.deliveriesExpected} deliveries missing after ${(report.drainMs / 1000).toFixed(0)} s ` +
        `(${report.workflowsStillRunning} workflows still running; first: ${report.missingSample.slice(0, 5).join(', ') || 'none'}), ` +
        `${report.duplicatesWithAnotherWebhookId} with a second webhook-id, ${report.receiver.badSignatures} failed verification`,
    );
  process.exit(exitCode);
}

/** `eventId/subscriptionIndex` of every acknowledged event answered 2xx by the receiver. */
function deliveredPairs(receiver: BenchReceiver, run: string, acknowledged: Map<string, number>): Set<string> {
  const pairs = new Set<string>();
  for (const r of receiver.receiptsOf(run)) if (acknowledged.has(r.eventId)) pairs.add(`${r.eventId}/${r.path.split('/').pop()}`);
  return pairs;
}

/**
 * How long after a fault cleared the work it held up landed: for the events acknowledged from
 * 5 s before the fault until it cleared, the time from the fault's end to each first receipt.
 */
function recovery(fault: Fault, receiver: BenchReceiver, run: string, acknowledged: Map<string, number>) {
  if (!fault.startedAt || !fault.endedAt) return undefined;
  const from = fault.startedAt - 5_000;
  const end = fault.endedAt;
  const first = new Map<string, number>();
  for (const r of receiver.receiptsOf(run)) {
    const ackedAt = acknowledged.get(r.eventId);
    if (ackedAt === undefined || ackedAt < from || ackedAt > end) continue;
    const key = `${r.eventId}/${r.path}`;
    if (!first.has(key)) first.set(key, r.receivedAt);
  }
  const values = [...first.values()].map((t) => Math.max(0, t - end));
  return { ...summarize(values), events: first.size };
}

function chaosMarkdown(r: ChaosReport): string {
  return [
    `# Herald chaos, seed ${r.seed} (${r.startedAt})`,
    '',
    `${r.loadSeconds} s at ${r.rate} events/s, fan-out ${r.fanout}, two workers, Temporal server on PostgreSQL, FerretDB on PostgreSQL.`,
    '',
    '| events acknowledged | deliveries expected | delivered | missing | duplicates | duplicate rate | second webhook-id | bad signatures | drain |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${r.eventsAcknowledged} | ${r.deliveriesExpected} | ${r.delivered} | **${r.missing}** | ${r.duplicates} | ${(100 * r.duplicateRate).toFixed(2)}% | ${r.duplicatesWithAnotherWebhookId} | ${r.receiver.badSignatures} | ${Math.round(r.drainMs / 1000)} s |`,
    '',
    `Not acknowledged (the producer would resend): ${r.eventsNotAcknowledged.failed} connection failures, ${r.eventsNotAcknowledged.refused} refusals ${JSON.stringify(r.eventsNotAcknowledged.statuses)}.`,
    '',
    '| fault | at | lasted | recovery p99 | recovery max | deliveries in window |',
    '|---|---:|---:|---:|---:|---:|',
    ...r.faults.map(
      (f) =>
        `| ${f.kind} | ${f.atS.toFixed(1)} s | ${f.tookS?.toFixed(1) ?? 'n/a'} s | ${f.recoveryP99Ms ?? 'n/a'} ms | ${f.recoveryMaxMs ?? 'n/a'} ms | ${f.eventsInWindow} |`,
    ),
    '',
  ].join('\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
