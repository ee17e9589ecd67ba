import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { connectStore, ensureIndexes, type AttemptDoc, type DeliveryDoc } from '../src/store';
import { startStore } from '../test/harness/servers';
import { eventDocOf } from '../src/store/events';
import { deliveryDoc } from './delivery-doc';
import { postgresCpuMs, processCpuMs } from './stack';

/**
 * `node dist/bench/command-cost.js`: what one store command costs in CPU, split over the three
 * processes it crosses here: the caller's MongoDB driver (this process), FerretDB, and
 * FerretDB's PostgreSQL (the backends of its database). COMMAND_COST_OPS (5,000) reads by
 * `_id` and as many updates by `_id`, 10 in flight, on 100 delivery-shaped documents, twice;
 * then an event's first attempts at fan-out 10: its 10 deliveries and their 10 attempts in one
 * insert command each (as the worker stored them until 2026-12-07), and the same 10 deliveries
 * with each one's attempt inside it in one command (as it stores them now, `firstAttempt`)
 * (COMMAND_COST_EVENTS, 500 events, per row). Herald's indexes, and
 * the wrapper's GIN companions; COMMAND_COST_DROP_BTREE=1 drops FerretDB's non-unique btree
 * indexes first, to price them (`bench/results/ferretdb-btree-2026-12-06T1646Z.md`).
 * Against the test store: FerretDB on PostgreSQL when one answers. Writes
 * bench/results/command-cost-<time>.md.
 */

const OPS = Number(process.env.COMMAND_COST_OPS ?? 5_000);
const EVENTS = Number(process.env.COMMAND_COST_EVENTS ?? 500);
const FAN_OUT = 10;
const IN_FLIGHT = 10;
const DOCS = 100;
const ROUNDS = 2;
const DROP_BTREE = process.env.COMMAND_COST_DROP_BTREE === '1';

interface Cost {
  command: string;
  round: number;
  perSecond: number;
  driverMs: number;
  ferretdbMs: number;
  postgresMs: number;
}

async function main() {
  const server = await startStore();
  const database = 'herald_command_cost';
  const store = await connectStore(`${server.baseUrl}/${database}`);
  const storeDb = postgresDatabaseOf(server);
  const ferretdb = server.process?.pid;
  try {
    await ensureIndexes(store);
    await new Promise((r) => setTimeout(r, 2_500)); // the wrapper's GIN companions, added each second
    if (DROP_BTREE) {
      const url = postgresUrlOf(server);
      if (!url) throw new Error('COMMAND_COST_DROP_BTREE=1 needs FerretDB on PostgreSQL');
      execFileSync('psql', [
        url,
        '-Atc',
        `DO $$ DECLARE r record; BEGIN FOR r IN SELECT schemaname, indexname FROM pg_indexes WHERE indexdef LIKE 'CREATE INDEX%USING btree%' AND schemaname = '${database}' LOOP EXECUTE format('DROP INDEX %I.%I', r.schemaname, r.indexname); END LOOP; END $$`,
      ]);
    }
    const docs = Array.from({ length: DOCS }, (_, i) => deliveryDoc('cost', `evt-${i}`, 'sub_cost', 'pending'));
    await store.deliveries.insertMany(docs);

    const commands: Record<string, (id: string, n: number) => Promise<unknown>> = {
      'read by _id (findOne)': (id) => store.deliveries.findOne({ _id: id }),
      'update by _id (updateOne $set)': (id, n) =>
        store.deliveries.updateOne({ _id: id }, { $set: { attempts: n, status: 'succeeded', updatedAt: new Date() } }),
    };
    const costs: Cost[] = [];
    /** Runs `run(round, n)` for n below `count`, IN_FLIGHT at once, and records its CPU per call. */
    const measure = async (command: string, round: number, count: number, run: (round: number, n: number) => Promise<unknown>) => {
      const before = { driver: process.cpuUsage(), ferretdb: ferretdb ? processCpuMs(ferretdb) : 0, postgres: postgresCpuMs(storeDb) };
      const started = Date.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < count) await run(round, next++);
        }),
      );
      const driver = process.cpuUsage(before.driver);
      costs.push({
        command,
        round,
        perSecond: (count / (Date.now() - started)) * 1000,
        driverMs: (driver.user + driver.system) / 1000 / count,
        ferretdbMs: ferretdb ? (processCpuMs(ferretdb) - before.ferretdb) / count : NaN,
        postgresMs: (postgresCpuMs(storeDb) - before.postgres) / count,
      });
    };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [command, run] of Object.entries(commands)) await measure(command, round, OPS, (_, n) => run(docs[n % DOCS]._id, n));
    }
    // An event's first attempts, stored apart (two inserts, as before) and with each attempt inside its delivery (one, as now).
    const writes: Record<string, (round: number, e: number) => Promise<unknown>> = {
      'event: 10 deliveries + 10 attempts (2 insertMany)': async (round, e) => {
        const deliveries = eventDeliveries(`a${round}-${e}`);
        await Promise.all([
          store.deliveries.insertMany(deliveries, { ordered: false }),
          store.attempts.insertMany(deliveries.map(firstAttemptOf), { ordered: false }),
        ]);
      },
      'event: its insert (insertOne)': (round, e) => store.events.insertOne(eventDoc(`e${round}-${e}`)),
      'event: its status update (updateOne $set, $unset)': (round, e) =>
        store.events.updateOne({ _id: `cost/e${round}-${e}` }, { $set: { status: 'delivered' }, $unset: { claimedUntil: '' } }),
      'event: 10 deliveries, attempt inside (1 insertMany)': (round, e) =>
        store.deliveries.insertMany(
          eventDeliveries(`b${round}-${e}`).map((d) => ({ ...d, firstAttempt: firstAttemptOf(d) })),
          { ordered: false },
        ),
    };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [command, run] of Object.entries(writes)) await measure(command, round, EVENTS, run);
    }
    report(costs, storeDb.length > 0);
  } finally {
    await store.client.close();
    server.process?.kill('SIGTERM');
    server.cleanup?.();
  }
}

/** An event's deliveries at fan-out 10, delivered at the first attempt. */
function eventDeliveries(eventId: string): DeliveryDoc[] {
  const at = new Date();
  return Array.from({ length: FAN_OUT }, (_, i) => ({
    ...deliveryDoc('cost', eventId, `sub_cost_${i}`, 'succeeded'),
    attempts: 1,
    lastAttemptAt: at,
    lastResponseStatus: 200,
  }));
}

/** An event as `openEvent` records it. */
function eventDoc(id: string) {
  const at = new Date();
  return {
    ...eventDocOf(
      'cost',
      {
        id,
        type: 'build.finished',
        data: { build: id, ok: true },
        subject: { type: 'build', id },
        actor: 'ci',
        occurredAt: at.toISOString(),
        receivedAt: at.toISOString(),
      },
      `event/cost/${id}`,
      'run-1',
      'delivering',
    ),
    claimedUntil: new Date(at.getTime() + 8_000),
  };
}

/** A webhook's first attempt as the worker records it. */
function firstAttemptOf(d: DeliveryDoc): AttemptDoc {
  return {
    _id: `${d._id}#1`,
    tenant: d.tenant,
    eventId: d.eventId,
    deliveryId: d._id,
    subscriptionId: d.subscriptionId,
    attempt: 1,
    startedAt: new Date(),
    durationMs: 3,
    request: {
      url: 'http://127.0.0.1:9/hook',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Herald-Webhooks/0.1',
        'webhook-id': d.messageId,
        'webhook-timestamp': '1796575379',
        'webhook-signature': 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
      },
    },
    response: { status: 200, body: 'ok' },
    error: null,
  };
}

/** The PostgreSQL URL FerretDB was started with; none on SQLite or MongoDB. */
function postgresUrlOf(server: Awaited<ReturnType<typeof startStore>>): string | undefined {
  const args = server.process?.spawnargs ?? [];
  return args.includes('-postgresql') ? args[args.indexOf('-postgresql') + 1] : undefined;
}

/** The PostgreSQL database FerretDB stores in; none on SQLite or MongoDB. */
function postgresDatabaseOf(server: Awaited<ReturnType<typeof startStore>>): string[] {
  const url = postgresUrlOf(server);
  return url ? [new URL(url).pathname.slice(1)] : [];
}

function report(costs: Cost[], postgres: boolean): void {
  const ms = (v: number) => (Number.isNaN(v) ? 'n/a' : `${v.toFixed(3)} ms`);
  const lines = [
    `# One store command's CPU, ${new Date().toISOString()}`,
    '',
    `\`node dist/bench/command-cost.js\`: ${OPS} commands per row of reads and updates (on ${DOCS} documents), ${EVENTS} events per \`event:\` row (its CPU is per event, "per second" events per second), ${IN_FLIGHT} in flight; store: FerretDB on ${postgres ? 'PostgreSQL' : 'SQLite'} with Herald's indexes${DROP_BTREE ? ", FerretDB's non-unique btree indexes dropped (COMMAND_COST_DROP_BTREE=1)" : ''}.`,
    '',
    '| command | round | per second | driver (this process) | FerretDB | PostgreSQL | all |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...costs.map(
      (c) =>
        `| ${c.command} | ${c.round} | ${c.perSecond.toFixed(0)} | ${ms(c.driverMs)} | ${ms(c.ferretdbMs)} | ${postgres ? ms(c.postgresMs) : 'n/a'} | ${ms(c.driverMs + (c.ferretdbMs || 0) + (postgres ? c.postgresMs : 0))} |`,
    ),
    '',
  ];
  const text = lines.join('\n');
  console.log(text);
  const dir = path.resolve('bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `command-cost-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}Z.md`), text);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
