import { randomBytes } from 'node:crypto';
import { HeraldHttp } from './herald-client';
import { BenchReceiver } from './receiver';
import { ProductionStack, sleep } from './stack';

/**
 * Worker memory with many deliveries waiting on backoff: BACKOFF_EVENTS (default 10,000)
 * events to a receiver that answers 500, on a schedule whose next attempt is an hour away,
 * with the worker's RSS sampled while the first attempts are made and afterwards while every
 * delivery waits. Prints the samples; exits non-zero if the RSS passes BACKOFF_RSS_LIMIT_MB.
 * Usage: node dist/bench/backoff-memory.js
 */

const EVENTS = Number(process.env.BACKOFF_EVENTS ?? 10_000);
const LIMIT_MB = Number(process.env.BACKOFF_RSS_LIMIT_MB ?? 600);

async function main() {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const receiver = new BenchReceiver({ secret, verifyEvery: 100 });
  receiver.mode = { kind: 'status', status: 500 };
  await receiver.start();
  const stack = await ProductionStack.start({ workers: 1, store: 'postgresql', env: { HERALD_INGEST_RATE: '1000000' } });
  const http = new HeraldHttp(stack.apiUrl, 16);
  const mb = () => Math.round(stack.workers[0].rss() / 2 ** 20);
  const samples: Array<{ t: number; attempted: number; workerRssMb: number }> = [];
  const t0 = Date.now();
  const sample = () => samples.push({ t: Math.round((Date.now() - t0) / 1000), attempted: receiver.counts.requests, workerRssMb: mb() });
  const sampler = setInterval(() => {
    sample();
    const last = samples[samples.length - 1];
    console.log(`  +${last.t} s  first attempts ${last.attempted}/${EVENTS}, worker RSS ${last.workerRssMb} MB`);
  }, 10_000);
  let code = 0;
  try {
    await http.expect(201, 'POST', '/v1/subscriptions', stack.adminKey, {
      url: `${receiver.url}/backoff`,
      eventTypes: ['backoff.tick'],
      channel: 'webhook',
      secret,
      retry: { schedule: ['1h'], maxAttempts: 2 },
    });
    for (let i = 0; i < EVENTS; i += 500) {
      const events = Array.from({ length: Math.min(500, EVENTS - i) }, (_, j) => ({ type: 'backoff.tick', data: { i: i + j } }));
      await http.expect(202, 'POST', '/v1/events', stack.adminKey, { events });
    }
    while (receiver.counts.requests < EVENTS && Date.now() - t0 < 1_200_000) await sleep(1_000);
    console.log(`Every delivery made its first attempt after ${Math.round((Date.now() - t0) / 1000)} s; all now wait an hour.`);
    for (let i = 0; i < 6; i++) {
      await sleep(10_000);
      sample();
    }
    const peak = Math.max(...samples.map((s) => s.workerRssMb));
    const waiting = samples[samples.length - 1].workerRssMb;
    console.log(
      JSON.stringify({ events: EVENTS, attempted: receiver.counts.requests, peakWorkerRssMb: peak, waitingWorkerRssMb: waiting, samples }),
    );
    if (peak > LIMIT_MB) code = 1;
  } finally {
    clearInterval(sampler);
    await http.close();
    await stack.stop();
    await receiver.close();
  }
  process.exit(code);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
