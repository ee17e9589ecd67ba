import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HeraldClient } from '../../src/client';
import { checkpointPath } from '../../src/cli/import/checkpoint';
import { importFile, importIds } from '../../src/cli/import/importer';
import { runCli, spawnCli } from '../harness/cli';
import { eventually, useStack } from '../harness/stack';

/**
 * `herald import` of 1,000 events with 3 bad lines, killed (SIGKILL) at about half and run
 * again: the bad lines are reported, and every other event is recorded and delivered once.
 * Its speed on 20,000 events is `make bench`'s `import` scenario.
 */

const env = useStack();
const COUNT = 1_000;
// Twenty batches, so the checkpoint passes half while the first run still has batches to send.
const BATCH = ['--batch-size', '50'];
const BAD_LINES = new Map([
  [77, '{"type": "import.bulk", "data": '],
  [501, '{"type": "Import Bulk", "data": {}}'],
  [950, '{"type": "import.bulk"}'],
]);

function writeFile(dir: string): { file: string; expectedIds: Set<string> } {
  const lines: string[] = [];
  const expectedIds = new Set<string>();
  const file = path.join(dir, 'events.ndjson');
  const idOf = importIds(file);
  for (let line = 1; line <= COUNT; line++) {
    const bad = BAD_LINES.get(line);
    const text = bad ?? JSON.stringify({ type: 'import.bulk', data: { line }, ...(line % 100 === 0 && { id: `given-${line}` }) });
    lines.push(text);
    const id = idOf(text);
    if (!bad) expectedIds.add(line % 100 === 0 ? `given-${line}` : id);
  }
  writeFileSync(file, lines.join('\n') + '\n');
  return { file, expectedIds };
}

test(
  'an import killed at half and run again reports exactly the 3 bad lines and records and delivers every other event once',
  async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-import-'));
    const { file, expectedIds } = writeFile(dir);
    const connection = { HERALD_URL: env.stack.url, HERALD_API_KEY: env.stack.adminKey };
    const herald = new HeraldClient({ url: env.stack.url, apiKey: env.stack.adminKey });
    await herald.subscriptions.create({ channel: 'webhook', url: `${env.receiver.url}/import`, eventTypes: ['import.bulk'] });

    const started = Date.now();
    const first = spawnCli(['import', file, ...BATCH], connection);
    let killing = false;
    let ended = false;
    const killedAt = await Promise.race([
      eventually(
        () => {
          if (ended) return -1; // the race below has failed the test already; stop polling
          if (!existsSync(checkpointPath(file))) return undefined;
          const { line } = JSON.parse(readFileSync(checkpointPath(file), 'utf8')) as { line: number };
          return line >= COUNT / 2 ? line : undefined;
        },
        5 * 60_000,
        'half of the file to be acknowledged',
      ),
      first.exited.then((code) => {
        ended = true;
        if (!killing) throw new Error(`the import ended (${code}) before half:\n${first.output.stdout}${first.output.stderr}`);
        return 0;
      }),
    ]);
    killing = true;
    first.child.kill('SIGKILL');
    await first.exited;
    const firstSeconds = (Date.now() - started) / 1000;

    const second = await runCli(['import', file, ...BATCH, '--json'], connection, 5 * 60_000);
    const summary = JSON.parse(second.stdout) as {
      resumedAfter: number;
      lines: number;
      accepted: number;
      duplicates: number;
      rejected: { line: number; reason: string }[];
      seconds: number;
    };
    const importSeconds = firstSeconds + summary.seconds;
    console.log(
      `import: killed after line ${killedAt} (${firstSeconds.toFixed(1)} s), re-run from line ${summary.resumedAfter}: ${summary.accepted} accepted, ${summary.duplicates} duplicates in ${summary.seconds.toFixed(1)} s; ${(expectedIds.size / importSeconds).toFixed(0)} events/s`,
    );

    expect(second.code).toBe(1);
    expect(summary.rejected.map((r) => r.line)).toEqual([...BAD_LINES.keys()]);
    expect(summary.rejected[0].reason).toMatch(/invalid JSON/);
    expect(summary.rejected[1].reason).toMatch(/^type: /);
    expect(summary.rejected[2].reason).toMatch(/^data: /);
    expect(summary.lines).toBe(COUNT);
    expect(summary.resumedAfter).toBeGreaterThanOrEqual(killedAt);
    expect(existsSync(checkpointPath(file))).toBe(false);

    // Recorded once: the audit holds exactly the expected ids (its _id is tenant/id, so no id twice).
    const recorded = await eventually(
      async () => {
        const docs = await env.stack.store.events.find({ tenant: 'default', type: 'import.bulk' }, { projection: { id: 1 } }).toArray();
        return docs.length >= expectedIds.size ? docs : undefined;
      },
      5 * 60_000,
      'every event in the audit',
    );
    expect(recorded).toHaveLength(expectedIds.size);
    expect(new Set(recorded.map((d) => d.id))).toEqual(expectedIds);

    // Delivered once: one webhook-id per event id, and every event arrived.
    const deliveredIn = await eventually(
      () => {
        const ids = new Set(env.receiver.received('/import').map((r) => (JSON.parse(r.body) as { id: string }).id));
        return ids.size >= expectedIds.size ? (Date.now() - started) / 1000 : undefined;
      },
      5 * 60_000,
      'every event at the receiver',
    );
    const webhookIds = new Map<string, Set<string>>();
    for (const r of env.receiver.received('/import')) {
      const id = (JSON.parse(r.body) as { id: string }).id;
      webhookIds.set(id, (webhookIds.get(id) ?? new Set()).add(String(r.headers['webhook-id'])));
    }
    expect(new Set(webhookIds.keys())).toEqual(expectedIds);
    expect([...webhookIds.values()].filter((ids) => ids.size !== 1)).toEqual([]);
    console.log(
      `all ${expectedIds.size} delivered ${deliveredIn.toFixed(0)} s after the import started (${(expectedIds.size / deliveredIn).toFixed(0)} deliveries/s)`,
    );
  },
  15 * 60_000,
);

test("an import cuts its batches at the API's body limit, and lists a line over it and lines outside a limited key's limits as rejected", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-import-'));
  const file = path.join(dir, 'sized.ndjson');
  const lines = Array.from({ length: 600 }, (_, i) => JSON.stringify({ type: 'import.sized', data: { i, pad: 'p'.repeat(600) } }));
  lines[99] = JSON.stringify({ type: 'import.sized', data: { pad: 'q'.repeat(300 * 1024) } }); // line 100: over 256 KiB alone
  lines[199] = JSON.stringify({ type: 'import.elsewhere', data: {} }); // line 200: outside the key's types
  writeFileSync(file, lines.join('\n') + '\n');
  const created = await env.stack.request('POST', '/v1/api-keys', {
    name: 'import limited',
    tenant: 'default',
    scopes: ['events:write'],
    eventTypes: ['import.sized'],
  });
  expect(created.status).toBe(201);

  // 598 events of ~650 bytes: 390 KB, more than one body; the default batch size (500) would send 316 KB at once.
  const summary = await importFile(new HeraldClient({ url: env.stack.url, apiKey: created.body.key }), file);
  expect(summary.accepted).toBe(598);
  expect(summary.rejected.map((r) => r.line)).toEqual([100, 200]);
  expect(summary.rejected[0].reason).toMatch(/body limit/);
  expect(summary.rejected[1].reason).toMatch(/^type: /);
});

test('an import run again after its bad line was removed sends nothing twice, identical lines included; a byte-order mark is no part of line 1', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-import-'));
  const file = path.join(dir, 'fixed.ndjson');
  const good = [JSON.stringify({ type: 'import.fixed', data: { n: 1 } }), JSON.stringify({ type: 'import.fixed', data: { n: 2 } })];
  // Saved with a byte-order mark, as editors on Windows do: not part of the first line's JSON.
  const lines = ['\uFEFF{"type": "import.fixed", "data": ', good[0], good[1], good[0]];
  writeFileSync(file, lines.join('\n') + '\n');
  const herald = new HeraldClient({ url: env.stack.url, apiKey: env.stack.adminKey });
  expect(await importFile(herald, file)).toMatchObject({ accepted: 3, duplicates: 0, rejected: [{ line: 1 }] });

  writeFileSync(file, '\uFEFF' + lines.slice(1).join('\n') + '\n');
  expect(await importFile(herald, file)).toMatchObject({ accepted: 0, duplicates: 3, rejected: [] });
});
