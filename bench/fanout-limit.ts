import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { HeraldHttp } from './herald-client';
import { BenchReceiver } from './receiver';
import { ProductionStack, sleep } from './stack';

/**
 * How large a fan-out one event can have: for each FANOUT_SIZES entry (default 1000,3000), a
 * tenant with the longest name Herald takes and that many webhook subscriptions to one fast
 * receiver, then one event with the longest id; waits up to FANOUT_WAIT_S (120) for its
 * final status in the audit and the end of its workflow. Prints, per size, the requests its
 * event brought the receiver, the distinct messages among them, the event's status in the
 * audit, and its workflow's status in Temporal with the attempt of its pending workflow task
 * (a run whose payloads Temporal refuses stays RUNNING, its workflow task failing on every
 * try, even once the audit has its final status), and how fast the subscriptions were created
 * (per second, for each slice of 496, 16 at a time). An event's run carries its deliveries through Temporal, whose
 * payloads stop at 2 MB (docs/operations.md, HERALD_MAX_SUBSCRIPTIONS).
 * Usage: node dist/bench/fanout-limit.js
 */

const SIZES = (process.env.FANOUT_SIZES ?? '1000,3000').split(',').map(Number);
if (!SIZES.every((n) => Number.isInteger(n) && n > 0)) throw new Error('FANOUT_SIZES: positive integers separated by commas');
const FINAL = ['delivered', 'failed', 'cancelled'];
const WAIT_MS = Number(process.env.FANOUT_WAIT_S ?? 120) * 1000;
const CREATION_SLICE = 496; // a multiple of the 16 creations made at once

async function main() {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const receiver = new BenchReceiver({ secret, verifyEvery: 100 });
  await receiver.start();
  const stack = await ProductionStack.start({
    workers: 1,
    store: 'postgresql',
    env: { HERALD_INGEST_RATE: '1000000', HERALD_MAX_SUBSCRIPTIONS: '100000' },
  });
  const http = new HeraldHttp(stack.apiUrl, 16);
  const temporal = new Client({ connection: await Connection.connect({ address: stack.temporalAddress }) });
  const results: unknown[] = [];
  try {
    for (const [n, size] of SIZES.entries()) {
      const tenant = `fanout${n}-`.padEnd(63, 'x');
      const key = await http.tenantKey(stack.adminKey, tenant);
      const eventType = `fanout.size${size}`;
      // Creations per second for each slice of CREATION_SLICE: each creation raises the tenant's
      // subscriptions version, and its own event's run matches against all of them.
      const creationRates: number[] = [];
      let sliceStart = Date.now();
      for (let i = 0; i < size; i += 16) {
        await Promise.all(
          Array.from({ length: Math.min(16, size - i) }, () =>
            http.subscribe(key, `${receiver.url}/fanout-${size}`, [eventType], secret, 5_000),
          ),
        );
        const made = Math.min(i + 16, size);
        if (made % CREATION_SLICE === 0 || made === size) {
          const sliceSize = made % CREATION_SLICE || CREATION_SLICE;
          creationRates.push(Math.round((sliceSize * 10_000) / (Date.now() - sliceStart)) / 10);
          sliceStart = Date.now();
        }
      }
      const id = `fanout-${size}-${n}-`.padEnd(128, 'x');
      // The receiver counts what arrives per `data.run`, so an earlier size's event still delivering is not counted here.
      const run = `fanout-${size}-${n}`;
      const t0 = Date.now();
      const { workflowId } = await http.expect<{ workflowId: string }>(202, 'POST', '/v1/events', key, {
        id,
        type: eventType,
        data: { size, run },
      });
      let status = 'unknown';
      const handle = temporal.workflow.getHandle(workflowId);
      let described = await handle.describe();
      while (Date.now() - t0 < WAIT_MS) {
        await sleep(1_000);
        const view = await http.call<{ status: string }>('GET', `/v1/events/${id}`, key);
        status = view.status === 200 ? view.body.status : `HTTP ${view.status}`;
        described = await handle.describe();
        if (FINAL.includes(status) && described.status.name !== 'RUNNING') break;
      }
      const result = {
        subscriptions: size,
        createdPerSecond: creationRates,
        requests: receiver.perRun.get(run) ?? 0,
        seconds: Math.round((Date.now() - t0) / 100) / 10,
        status,
        workflow: described.status.name,
        workflowTaskAttempt: described.raw.pendingWorkflowTask?.attempt ?? null,
        // Each delivery has its own webhook-id: more requests than ids are messages sent again.
        messages: new Set(receiver.receiptsOf(run).map((r) => r.messageId)).size,
      };
      results.push(result);
      console.log(JSON.stringify(result));
    }
  } finally {
    await http.close();
    await temporal.connection.close();
    await stack.stop();
    await receiver.close();
  }
  console.log(JSON.stringify({ measuredAt: new Date().toISOString(), results }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
