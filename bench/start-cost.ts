import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HeraldHttp } from './herald-client';
import { postgresCpuMs, processCpuMs, ProductionStack, sleep } from './stack';

/**
 * `node dist/bench/start-cost.js`: what accepting an event costs when nothing runs it. The
 * production-shaped stack with no worker, two callers posting 500-event batches for
 * START_COST_MS (12 s); an answer other than 202 (Herald at capacity, the key's rate limit)
 * waits 200 ms and is counted. CPU per accepted event by process: the API, the Temporal server,
 * Temporal's PostgreSQL and the store. Writes bench/results/start-cost-<time>.md.
 */

const DURATION_MS = Number(process.env.START_COST_MS ?? 12_000);
const CALLERS = Number(process.env.START_COST_CALLERS ?? 2);
/** Events per request; 1 posts single events (no `events` array), to see what a request costs beside its start. */
const BATCH = Number(process.env.START_COST_BATCH ?? 500);
if (!Number.isInteger(CALLERS) || CALLERS < 1) throw new Error('START_COST_CALLERS must be a whole number, 1 or more');
if (!Number.isInteger(BATCH) || BATCH < 1 || BATCH > 500) throw new Error('START_COST_BATCH must be a whole number from 1 to 500');

async function main() {
  // START_COST_PROFILE=1: the API's CPU profile, under bench/results/profiles/api/.
  const apiNodeArgs =
    process.env.START_COST_PROFILE === '1' ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve('bench/results/profiles/api')}`] : [];
  const stack = await ProductionStack.start({ workers: 0, store: 'postgresql', apiNodeArgs });
  const http = new HeraldHttp(stack.apiUrl, CALLERS * 2);
  try {
    const key = await http.tenantKey(stack.adminKey, 'start-cost');
    const temporalPid = Number(
      execFileSync('pgrep', ['-f', `temporal-server --root ${stack.dataDir}`], { encoding: 'utf8' }).split('\n')[0],
    );
    const cpu = () => ({
      api: processCpuMs(stack.api.child!.pid!),
      temporal: processCpuMs(temporalPid),
      'postgres (Temporal)': postgresCpuMs(stack.temporalDatabases),
      store: processCpuMs(stack.store.child!.pid!) + postgresCpuMs(stack.storeDatabases),
    });
    let n = 0;
    const one = () => ({ type: 'bench.start', data: { n: n++ } });
    const batch = () => (BATCH === 1 ? one() : { events: Array.from({ length: BATCH }, one) });
    await http.call('POST', '/v1/events', key, batch()); // the first start pays for connections
    const before = cpu();
    const started = Date.now();
    let accepted = 0;
    const refused = new Map<number, number>();
    await Promise.all(
      Array.from({ length: CALLERS }, async () => {
        while (Date.now() - started < DURATION_MS) {
          const res = await http.call<{ results?: { error?: string }[] }>('POST', '/v1/events', key, batch());
          if (res.status === 202) accepted += res.body.results?.filter((r) => !r.error).length ?? 1;
          else {
            refused.set(res.status, (refused.get(res.status) ?? 0) + 1);
            await sleep(200);
          }
        }
      }),
    );
    const elapsedMs = Date.now() - started;
    if (accepted === 0) throw new Error(`no event was accepted; refused: ${JSON.stringify(Object.fromEntries(refused))}`);
    const after = cpu();
    const perEvent = Object.entries(after).map(
      ([name, ms]) => `${name} ${((ms - before[name as keyof typeof before]) / accepted).toFixed(2)} ms`,
    );
    const total = Object.entries(after).reduce((sum, [name, ms]) => sum + ms - before[name as keyof typeof before], 0) / accepted;
    const plugin = process.env.TEMPORAL_PG_PLUGIN ?? 'postgres12_pgx';
    const report = [
      `# Start cost ${new Date().toISOString()}`,
      '',
      `Temporal SQL plugin ${plugin}; ${CALLERS} callers, ${BATCH === 1 ? 'single events' : `${BATCH}-event batches`}, ${DURATION_MS / 1000} s, no worker.`,
      '',
      `**${((accepted / elapsedMs) * 1000).toFixed(1)} events/s accepted** (${accepted}); refused requests: ${
        [...refused].map(([status, count]) => `${count} × ${status}`).join(', ') || 'none'
      }.`,
      `CPU per accepted event: ${perEvent.join(', ')}; ${total.toFixed(2)} ms in all.`,
      '',
    ].join('\n');
    console.log(report);
    const dir = path.resolve('bench/results');
    mkdirSync(dir, { recursive: true });
    const shape = BATCH === 1 ? '-single' : BATCH === 500 ? '' : `-batch${BATCH}`;
    writeFileSync(path.join(dir, `start-cost-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}Z-${plugin}${shape}.md`), report);
  } finally {
    await http.pool.close();
    await stack.stop({ keepData: false });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
