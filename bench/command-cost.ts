import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { connectStore } from '../src/store';
import { startStore } from '../test/harness/servers';
import { deliveryDoc } from './delivery-doc';
import { postgresCpuMs, processCpuMs } from './stack';

/**
 * `node dist/bench/command-cost.js`: what one store command costs in CPU, split over the three
 * processes it crosses here: the caller's MongoDB driver (this process), FerretDB, and
 * FerretDB's PostgreSQL (the backends of its database). COMMAND_COST_OPS (5,000) reads by
 * `_id` and as many updates by `_id`, 10 in flight, on 100 delivery-shaped documents, twice.
 * Against the test store: FerretDB on PostgreSQL when one answers. Writes
 * bench/results/command-cost-<time>.md.
 */

const OPS = Number(process.env.COMMAND_COST_OPS ?? 5_000);
const IN_FLIGHT = 10;
const DOCS = 100;
const ROUNDS = 2;

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
    const docs = Array.from({ length: DOCS }, (_, i) => deliveryDoc('cost', `evt-${i}`, 'sub_cost', 'pending'));
    await store.deliveries.insertMany(docs);

    const commands: Record<string, (id: string, n: number) => Promise<unknown>> = {
      'read by _id (findOne)': (id) => store.deliveries.findOne({ _id: id }),
      'update by _id (updateOne $set)': (id, n) =>
        store.deliveries.updateOne({ _id: id }, { $set: { attempts: n, status: 'succeeded', updatedAt: new Date() } }),
    };
    const costs: Cost[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [command, run] of Object.entries(commands)) {
        const before = { driver: process.cpuUsage(), ferretdb: ferretdb ? processCpuMs(ferretdb) : 0, postgres: postgresCpuMs(storeDb) };
        const started = Date.now();
        let next = 0;
        await Promise.all(
          Array.from({ length: IN_FLIGHT }, async () => {
            while (next < OPS) {
              const n = next++;
              await run(docs[n % DOCS]._id, n);
            }
          }),
        );
        const driver = process.cpuUsage(before.driver);
        costs.push({
          command,
          round,
          perSecond: (OPS / (Date.now() - started)) * 1000,
          driverMs: (driver.user + driver.system) / 1000 / OPS,
          ferretdbMs: ferretdb ? (processCpuMs(ferretdb) - before.ferretdb) / OPS : NaN,
          postgresMs: (postgresCpuMs(storeDb) - before.postgres) / OPS,
        });
      }
    }
    report(costs, storeDb.length > 0);
  } finally {
    await store.client.close();
    server.process?.kill('SIGTERM');
    server.cleanup?.();
  }
}

/** The PostgreSQL database FerretDB stores in, from the test harness's naming; none on SQLite or MongoDB. */
function postgresDatabaseOf(server: Awaited<ReturnType<typeof startStore>>): string[] {
  const args = server.process?.spawnargs ?? [];
  const url = args[args.indexOf('-postgresql') + 1];
  return args.includes('-postgresql') && url ? [new URL(url).pathname.slice(1)] : [];
}

function report(costs: Cost[], postgres: boolean): void {
  const ms = (v: number) => (Number.isNaN(v) ? 'n/a' : `${v.toFixed(3)} ms`);
  const lines = [
    `# One store command's CPU, ${new Date().toISOString()}`,
    '',
    `\`node dist/bench/command-cost.js\`: ${OPS} commands per row, ${IN_FLIGHT} in flight, on ${DOCS} documents; store: FerretDB on ${postgres ? 'PostgreSQL' : 'SQLite'}.`,
    '',
    '| command | round | commands/s | driver (this process) | FerretDB | PostgreSQL | all |',
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
