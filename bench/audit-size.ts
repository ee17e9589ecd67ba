import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import type { AttemptDoc, DeliveryDoc, EventDoc } from '../src/store';
import { LOCAL_ATTEMPT_MAX_MS } from '../src/workflows/deliver-event';
import { HeraldHttp } from './herald-client';
import { openLoop, summarize, type LatencySummary } from './load';
import { BenchReceiver } from './receiver';
import { ProductionStack, sleep, type StoreBackend } from './stack';

/**
 * `make bench-audit`: does Herald keep its speed as the audit grows? On one production-shaped
 * stack per store backend, the same two measurements with an empty audit and again after
 * AUDIT_EVENTS events (each with a delivery and an attempt) were written straight into the
 * store, in the same tenant the load uses:
 *   - recording: RECORD_EVENTS events matching no subscription, in 500-event batches, until
 *     every workflow has closed (each closes after writing its event and final status);
 *   - end to end: E2E_RATE events/s for E2E_MS to one subscription, ingest → receipt.
 * A per-event query whose cost grows with the collection shows as the second row falling
 * behind the first. BENCH_STORES=sqlite,postgresql chooses the backends; QUICK=1 seeds 50,000.
 */

const QUICK = process.env.QUICK === '1';
const AUDIT_EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? (QUICK ? 50_000 : 200_000));
const STORES = (process.env.BENCH_STORES ?? 'sqlite,postgresql').split(',') as StoreBackend[];
const RECORD_EVENTS = 1_000;
/** A store that reads its whole audit per event takes hours for RECORD_EVENTS: the rate is taken over this long. */
const RECORD_DEADLINE_MS = 300_000;
const E2E_RATE = 10;
const E2E_MS = QUICK ? 10_000 : 20_000;
const TENANT = 'bench-audit';
const SEED_BATCH = 1_000;

interface Measurement {
  audit: number;
  recordPerSecond: number;
  recordMs: number;
  e2e: LatencySummary & { accepted: number; received: number };
}

interface StoreResult {
  store: StoreBackend;
  seedMs: number;
  measurements: Measurement[];
}

const secret = `whsec_${randomBytes(24).toString('base64')}`;

async function main() {
  const startedAt = new Date();
  const receiver = new BenchReceiver({ secret, verifyEvery: 20 });
  await receiver.start();
  const results: StoreResult[] = [];
  try {
    for (const store of STORES) results.push(await measureStore(store, receiver));
  } finally {
    await receiver.close();
  }
  const dir = path.resolve('bench/results');
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `audit-size-${startedAt.toISOString().slice(0, 19).replaceAll(':', '')}Z${QUICK ? '-quick' : ''}`);
  const report = { startedAt: startedAt.toISOString(), quick: QUICK, cpus: os.cpus().length, auditEvents: AUDIT_EVENTS, results };
  writeFileSync(`${base}.json`, JSON.stringify(report, null, 2) + '\n');
  const md = markdown(report);
  writeFileSync(`${base}.md`, md);
  console.log(`\n${md}\nResults: ${base}.json, ${base}.md`);
}

async function measureStore(store: StoreBackend, receiver: BenchReceiver): Promise<StoreResult> {
  console.log(`Store FerretDB on ${store}: starting the production-shaped stack...`);
  const stack = await ProductionStack.start({ workers: 1, store, env: { HERALD_INGEST_RATE: '1000000' } });
  const http = new HeraldHttp(stack.apiUrl, 64);
  const temporal = new Client({ connection: await Connection.connect({ address: stack.temporalAddress }) });
  const mongo = await new MongoClient(stack.mongoUrl).connect();
  try {
    const key = await http.tenantKey(stack.adminKey, TENANT);
    await http.subscribe(key, `${receiver.url}/audit-e2e`, ['bench.audit.e2e'], secret, LOCAL_ATTEMPT_MAX_MS);
    const running = () => temporal.workflow.count(`WorkflowType = 'deliverEvent' AND ExecutionStatus = 'Running'`).then((c) => c.count);
    /** Waits for every workflow to close, or the deadline; answers how many are still running. */
    const idle = async (deadline = Infinity) => {
      let left = await running();
      while (left > 0 && Date.now() < deadline) {
        await sleep(500);
        left = await running();
      }
      return left;
    };
    const measure = async (audit: number, label: string): Promise<Measurement> => {
      const t0 = Date.now();
      for (let i = 0; i < RECORD_EVENTS; i += 500) {
        const events = Array.from({ length: 500 }, (_, k) => ({
          type: 'bench.audit.record',
          subject: { type: 'bench', id: `r${(i + k) % 50}` },
          data: { i: i + k },
        }));
        await http.expect(202, 'POST', '/v1/events', key, { events });
      }
      const unrecorded = await idle(t0 + RECORD_DEADLINE_MS);
      const recordMs = Date.now() - t0;
      if (unrecorded > 0)
        throw new Error(
          `${unrecorded} of ${RECORD_EVENTS} events still unrecorded after ${RECORD_DEADLINE_MS / 1000} s: the audit size slows recording down`,
        );
      const run = `audit-${store}-${label}`;
      const load = await openLoop({
        rate: E2E_RATE,
        durationMs: E2E_MS,
        task: async (i) => {
          await http.expect(202, 'POST', '/v1/events', key, { type: 'bench.audit.e2e', data: { run, sentAt: Date.now(), i } });
        },
      });
      await receiver.until(() => receiver.received(run) >= load.ok, 120_000);
      await idle();
      const receipts = receiver.receiptsOf(run);
      const e2e = { ...summarize(receipts.map((r) => r.receivedAt - r.sentAt)), accepted: load.ok, received: receipts.length };
      const m = { audit, recordMs, recordPerSecond: Math.round((RECORD_EVENTS / recordMs) * 10_000) / 10, e2e };
      console.log(
        `  audit ${audit}: recorded ${m.recordPerSecond} events/s; end to end p50 ${Math.round(e2e.p50)} ms, p99 ${Math.round(e2e.p99)} ms`,
      );
      return m;
    };
    const empty = await measure(0, 'empty');
    const seedStarted = Date.now();
    await seed(mongo, AUDIT_EVENTS);
    const seedMs = Date.now() - seedStarted;
    console.log(`  seeded ${AUDIT_EVENTS} events with their deliveries and attempts in ${Math.round(seedMs / 1000)} s`);
    const full = await measure(AUDIT_EVENTS, 'full');
    return { store, seedMs, measurements: [empty, full] };
  } finally {
    await mongo.close();
    await http.close();
    await temporal.connection.close();
    await stack.stop();
  }
}

/**
 * Old traffic of the same tenant as Herald would have stored it: a tenth of the events are
 * `*.completed` children of the one before, so the causality fields hold real values too.
 */
async function seed(mongo: MongoClient, count: number): Promise<void> {
  const db = mongo.db();
  const start = Date.now() - count * 1_000;
  for (let from = 0; from < count; from += SEED_BATCH) {
    const events: EventDoc[] = [];
    const deliveries: DeliveryDoc[] = [];
    const attempts: AttemptDoc[] = [];
    for (let i = from; i < Math.min(count, from + SEED_BATCH); i++) {
      const id = `seed-${i}`;
      const at = new Date(start + i * 1_000);
      const workflowId = `event/${TENANT}/${id}`;
      const closing = i % 10 === 9;
      events.push({
        _id: `${TENANT}/${id}`,
        tenant: TENANT,
        id,
        type: closing ? 'bench.seed.completed' : 'bench.seed.started',
        dataJson: JSON.stringify({ i }),
        subject: { type: 'bench', id: `s${i % 500}` },
        ...(closing && { parentId: `seed-${i - 1}` }),
        occurredAt: at,
        receivedAt: at,
        workflowId,
        runId: `seed-run-${i}`,
        status: 'delivered',
      });
      const deliveryId = `${workflowId}|sub_seed`;
      deliveries.push({
        _id: deliveryId,
        tenant: TENANT,
        eventId: id,
        workflowId,
        subscriptionId: 'sub_seed',
        channel: 'webhook',
        messageId: `msg_seed_${i}`,
        status: 'succeeded',
        attempts: 1,
        lastAttemptAt: at,
        lastResponseStatus: 200,
        nextAttemptAt: null,
        error: null,
        scheduleBase: 0,
        createdAt: at,
        updatedAt: at,
      });
      attempts.push({
        _id: `${deliveryId}#1`,
        tenant: TENANT,
        eventId: id,
        deliveryId,
        subscriptionId: 'sub_seed',
        attempt: 1,
        startedAt: at,
        durationMs: 3,
        request: { url: 'http://127.0.0.1:9/seed', headers: {} },
        response: { status: 200, body: '' },
        error: null,
      });
    }
    await db.collection<EventDoc>('events').insertMany(events, { ordered: false });
    await db.collection<DeliveryDoc>('deliveries').insertMany(deliveries, { ordered: false });
    await db.collection<AttemptDoc>('attempts').insertMany(attempts, { ordered: false });
  }
}

function markdown(report: { startedAt: string; cpus: number; auditEvents: number; results: StoreResult[] }): string {
  const lines = [
    `# Herald audit-size bench ${report.startedAt}${QUICK ? ' (QUICK)' : ''}`,
    '',
    `${report.cpus} cores; production-shaped stack (Temporal server on PostgreSQL), one worker. Each store measured empty and with ${report.auditEvents} events (each with a delivery and an attempt) stored in the tenant under load.`,
    '',
    '| store | audit | recording events/s | e2e p50 | e2e p99 | received/accepted |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of report.results) {
    for (const m of r.measurements) {
      lines.push(
        `| FerretDB/${r.store} | ${m.audit} | ${m.recordPerSecond} | ${Math.round(m.e2e.p50)} ms | ${Math.round(m.e2e.p99)} ms | ${m.e2e.received}/${m.e2e.accepted} |`,
      );
    }
    const [empty, full] = r.measurements;
    if (empty && full) {
      lines.push(
        `| FerretDB/${r.store} | full / empty | ${pct(full.recordPerSecond / empty.recordPerSecond)} | ${pct(full.e2e.p50 / empty.e2e.p50)} | ${pct(full.e2e.p99 / empty.e2e.p99)} | seeded in ${Math.round(r.seedMs / 1000)} s |`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

const pct = (ratio: number) => `${Math.round(ratio * 100)}%`;

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
