import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as api from '../harness/api';
import { auditEvents, seedAudit } from '../harness/audit-seed';
import { freePort, waitForPort } from '../harness/servers';
import { eventually, useStack } from '../harness/stack';

/** `GET /v1/events/export`: the audit as NDJSON, streamed in constant memory. */

const env = useStack();

function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

/** Reads an NDJSON answer line by line without keeping it: the count, the first and last lines. */
async function readExport(url: string, key: string, onChunk?: () => void) {
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
  const decoder = new TextDecoder();
  let rest = '';
  let count = 0;
  let first: any = null;
  let last: any = null;
  for await (const chunk of res.body!) {
    onChunk?.();
    const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      const parsed = JSON.parse(line);
      first ??= parsed;
      last = parsed;
      count++;
    }
  }
  expect(rest).toBe(''); // the stream ends with a whole line
  return { count, first, last };
}

test('an event exports with its deliveries and attempts when asked', async () => {
  await api.subscribe(env.stack, env.receiver, '/export', ['export.live']);
  const sent = await api.send(env.stack, { type: 'export.live', data: { n: 1 }, subject: { type: 'package', id: 'p1' } });
  await api.finalEvent(env.stack, sent.id);

  // The export reads the recorded status, which the workflow writes a moment after the live view.
  const line = await eventually(
    async () => {
      const plain = await env.stack.request('GET', '/v1/events/export?type=export.live');
      expect(plain.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      const [only] = String(plain.body)
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      return only.status === 'delivered' && only;
    },
    10_000,
    'the recorded status',
  );
  expect(line).toMatchObject({
    id: sent.id,
    type: 'export.live',
    data: { n: 1 },
    subject: { type: 'package', id: 'p1' },
    status: 'delivered',
  });
  expect(line.deliveries).toBeUndefined();

  const full = await env.stack.request('GET', '/v1/events/export?type=export.live&include=deliveries,attempts');
  const withAudit = JSON.parse(String(full.body).trim());
  expect(withAudit.deliveries).toEqual([expect.objectContaining({ status: 'succeeded', attempts: 1 })]);
  expect(withAudit.attempts).toEqual([expect.objectContaining({ attempt: 1, response: expect.objectContaining({ status: 200 }) })]);

  const bad = await env.stack.request('GET', '/v1/events/export?include=everything&since=soon');
  expect(bad.status).toBe(400);
  expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['include', 'since']);
});

test('100,000 events export oldest first from an API process with a 96 MB heap, growing under 100 MB', async () => {
  const end = new Date('2026-06-01T00:00:00Z');
  const events = auditEvents(100_000, end, 'bulk');
  await seedAudit(env.stack.store, 'default', events);

  // The API alone in its process, so its RSS is the export's alone.
  const port = await freePort();
  // Its old generation capped at 96 MB (it keeps about 35 MB alive): an export that held its
  // events would end the process, whatever the machine's load. Without a cap, how much garbage V8
  // lets pile up before it collects varied from run to run (growth 25 to 126 MB, same code).
  const child = spawn(process.execPath, ['--max-old-space-size=96', path.resolve(__dirname, '../../dist/src/api.js')], {
    env: {
      ...process.env,
      ...env.stack.workerEnv,
      HERALD_ADMIN_KEY: env.stack.adminKey,
      HERALD_PORT: String(port),
      HERALD_LOG_LEVEL: 'silent',
    },
    stdio: 'ignore',
  });
  try {
    await waitForPort(port);
    const base = `http://127.0.0.1:${port}/v1/events/export`;
    // Warm up the code paths (and the driver's pool) so the baseline holds them.
    await readExport(`${base}?since=${end.toISOString()}`, env.stack.adminKey);
    const before = rssMb(child.pid!);
    let peak = before;
    let chunks = 0;
    const started = Date.now();
    const { count, first, last } = await readExport(`${base}?until=${end.toISOString()}`, env.stack.adminKey, () => {
      if (++chunks % 50 === 0) peak = Math.max(peak, rssMb(child.pid!));
    });
    peak = Math.max(peak, rssMb(child.pid!));
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `export: ${count} events in ${seconds.toFixed(1)} s (${Math.round(count / seconds)}/s); API RSS ${before.toFixed(0)} MB before, ` +
        `${peak.toFixed(0)} MB at peak: growth ${(peak - before).toFixed(1)} MB`,
    );
    expect(count).toBe(100_000);
    expect(first.id).toBe(events[events.length - 1].id); // oldest first
    expect(last.id).toBe(events[0].id);
    expect(peak - before).toBeLessThan(100);
  } finally {
    child.kill('SIGTERM');
  }
}, 900_000);
