import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { verifyWebhook } from '../../src/receiver';
import { runCli, spawnCli } from '../harness/cli';
import { eventually, useStack } from '../harness/stack';

/** The `herald` CLI against a real stack: tables for people, --json for scripts, where the key comes from, listen. */

const env = useStack();
const connection = () => ({ HERALD_URL: env.stack.url, HERALD_API_KEY: env.stack.adminKey });
const herald = (...args: string[]) => runCli(args, connection());
const heraldJson = async <T = any>(...args: string[]): Promise<T> => {
  const res = await herald(...args, '--json');
  expect(res).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(res.stdout) as T;
};

test('subscriptions create/list/get print aligned tables, and the same data as JSON with --json', async () => {
  const created = await heraldJson(
    'subscriptions',
    'create',
    '--name',
    'cli',
    '--webhook',
    `${env.receiver.url}/cli`,
    '--event-types',
    'cli.sent,cli.other',
    '--header',
    'x-team:ops',
    '--retry-schedule',
    '1s,5s',
  );
  expect(created).toMatchObject({
    name: 'cli',
    eventTypes: ['cli.sent', 'cli.other'],
    headers: { 'x-team': 'ops' },
    retry: { schedule: ['1s', '5s'] },
    secret: expect.stringMatching(/^whsec_/),
  });

  const table = await herald('subscriptions', 'list');
  expect(table.code).toBe(0);
  const [header, ...rows] = table.stdout.trimEnd().split('\n');
  expect(header).toMatch(/^ID\s+NAME\s+CHANNEL\s+EVENT TYPES\s+TARGET\s+ACTIVE$/);
  const row = rows.find((r) => r.startsWith(created.id));
  expect(row?.split(/\s{2,}/)).toEqual([created.id, 'cli', 'webhook', 'cli.sent,cli.other', `${env.receiver.url}/cli`, 'yes']);
  // Columns line up: each header starts where its cells start.
  expect(row!.indexOf('webhook')).toBe(header.indexOf('CHANNEL'));

  const listed = await heraldJson('subscriptions', 'list');
  expect(listed.nextCursor).toBeNull();
  expect(listed.data.find((s: { id: string }) => s.id === created.id)).toEqual({
    ...created,
    secret: undefined,
    headers: expect.any(Object),
  });

  const shown = await herald('subscriptions', 'get', created.id);
  expect(shown.stdout).toMatch(new RegExp(`^id\\s+${created.id}$`, 'm'));
  expect(shown.stdout).toMatch(/^eventTypes\s+cli\.sent, cli\.other$/m);
});

test('events send/get/list/attempts: a table for people and the API answer with --json', async () => {
  const sent = await heraldJson(
    'events',
    'send',
    'cli.sent',
    '--data',
    '{"version": "1.2.3"}',
    '--subject',
    'package/herald',
    '--actor',
    'ci',
  );
  expect(sent).toMatchObject({ id: expect.stringMatching(/^evt_/), duplicate: false });
  expect(await heraldJson('events', 'send', 'cli.sent', '--id', sent.id, '--data', '{}')).toMatchObject({ id: sent.id, duplicate: true });

  const view = await eventually(
    async () => {
      const v = await heraldJson('events', 'get', sent.id);
      return v.status === 'delivered' ? v : undefined;
    },
    30_000,
    'delivered',
  );
  expect(view.event).toMatchObject({
    type: 'cli.sent',
    data: { version: '1.2.3' },
    subject: { type: 'package', id: 'herald' },
    actor: 'ci',
  });

  const got = await herald('events', 'get', sent.id);
  expect(got.stdout).toMatch(/^status\s+delivered$/m);
  expect(got.stdout).toMatch(/^subject\s+package\/herald$/m);
  expect(got.stdout).toMatch(/^SUBSCRIPTION\s+STATUS\s+ATTEMPTS\s+LAST\s+NEXT\s+ERROR$/m);
  expect(got.stdout).toMatch(new RegExp(`^${view.deliveries[0].subscriptionId}\\s+succeeded\\s+1\\s+200\\s+-\\s+-$`, 'm'));

  const list = await herald('events', 'list', '--type', 'cli.*', '--limit', '1');
  const lines = list.stdout.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^ID\s+TYPE\s+STATUS\s+SUBJECT\s+OCCURRED$/);
  expect(lines[1]).toMatch(new RegExp(`^${sent.id}\\s+cli\\.sent\\s+delivered\\s+package/herald\\s+`));

  const attempts = await heraldJson('events', 'attempts', sent.id);
  expect(attempts).toEqual([expect.objectContaining({ attempt: 1, response: { status: 200, body: 'ok' } })]);
});

test('keys create/list/revoke, and the key read from a named profile of the config file', async () => {
  const key = await heraldJson(
    'keys',
    'create',
    '--name',
    'reader',
    '--tenant',
    'cli-tenant',
    '--scopes',
    'events:read,subscriptions:read',
  );
  expect(key).toMatchObject({ tenant: 'cli-tenant', scopes: ['events:read', 'subscriptions:read'], key: expect.any(String) });

  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-cli-'));
  const config = path.join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      profiles: { default: { url: 'http://127.0.0.1:1', apiKey: 'wrong' }, reader: { url: env.stack.url, apiKey: key.key } },
    }),
  );
  const asReader = await runCli(['--profile', 'reader', 'subscriptions', 'list', '--json'], { HERALD_CONFIG: config });
  expect(asReader.code).toBe(0);
  expect(JSON.parse(asReader.stdout)).toEqual({ data: [], nextCursor: null });
  // Flags win over the profile.
  const flagged = await runCli(['--profile', 'default', '--url', env.stack.url, '--api-key', key.key, 'events', 'list', '--json'], {
    HERALD_CONFIG: config,
  });
  expect(flagged.code).toBe(0);

  const table = await herald('keys', 'list');
  expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+TENANT\s+SCOPES\s+PREFIX\s+REVOKED\s+EXPIRES\s+LIMITS$/);
  expect(table.stdout).toMatch(
    new RegExp(`^${key.id}\\s+reader\\s+cli-tenant\\s+events:read,subscriptions:read\\s+${key.prefix}\\s+-\\s+-\\s+-$`, 'm'),
  );

  expect(await herald('keys', 'revoke', key.id)).toMatchObject({ code: 0, stdout: `revoked ${key.id}\n` });
  const refused = await runCli(['--profile', 'reader', 'events', 'list'], { HERALD_CONFIG: config });
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/^herald: 401 /);
});

test('keys create --expires-in 30d --subject --event-type: an expiring key limited to resources', async () => {
  const before = Date.now();
  const key = await heraldJson(
    'keys',
    'create',
    '--name',
    'ci',
    '--tenant',
    'cli-tenant',
    '--scopes',
    'events:write',
    '--expires-in',
    '30d',
    '--subject',
    'package/herald',
    '--subject',
    'origin',
    '--event-type',
    'deploy.*',
  );
  expect(key).toMatchObject({ subjects: [{ type: 'package', id: 'herald' }, { type: 'origin' }], eventTypes: ['deploy.*'] });
  const expires = Date.parse(key.expiresAt) - before;
  expect(expires).toBeGreaterThanOrEqual(30 * 86_400_000);
  expect(expires).toBeLessThan(30 * 86_400_000 + 60_000);
  const table = await herald('keys', 'list');
  expect(table.stdout).toMatch(
    new RegExp(`^${key.id}\\s.*\\s${key.expiresAt}\\s+subjects package/herald, origin/\\*; event types deploy\\.\\*$`, 'm'),
  );

  const bad = await herald('keys', 'create', '--name', 'x', '--tenant', 't', '--scopes', 'events:read', '--expires-in', '30 days');
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('whole number of d, h, m or s');
});

test('errors: the problem and its invalid fields on stderr, exit code 1', async () => {
  const missing = await herald('events', 'get', 'no-such-event');
  expect(missing).toMatchObject({ code: 1, stdout: '' });
  expect(missing.stderr).toMatch(/^herald: 404 Not found/);

  const invalid = await herald('subscriptions', 'create', '--webhook', 'ftp://example.invalid/', '--event-types', 'a.b');
  expect(invalid.code).toBe(1);
  expect(invalid.stderr).toMatch(/^\s+url: must be an absolute http or https URL$/m);

  const noKey = await runCli(['events', 'list'], { HERALD_URL: env.stack.url });
  expect(noKey.code).toBe(1);
  expect(noKey.stderr).toMatch(/no API key/);

  // 0 is a number given: the API refuses it, where it was dropped for the default before.
  const none = await herald('subscriptions', 'create', '--webhook', `${env.receiver.url}/x`, '--event-types', 'a.b', '--max-attempts', '0');
  expect(none.code).toBe(1);
  expect(none.stderr).toMatch(/^\s+retry\.maxAttempts: /m);
  const unbatched = await herald('import', path.join(os.tmpdir(), 'never-read.ndjson'), '--batch-size', '0');
  expect(unbatched.code).not.toBe(0);
  expect(unbatched.stderr).toMatch(/--batch-size.*must be 1 or more/);

  const schemeless = await runCli(['events', 'list'], { HERALD_URL: 'localhost:8080', HERALD_API_KEY: 'k' });
  expect(schemeless.code).toBe(1);
  expect(schemeless.stderr).toMatch(/must be an http:\/\/ or https:\/\/ URL, not "localhost:8080"/);
});

test('an answer that is not the API\'s names the URL asked and its status; --url after "subscriptions create" is refused with the option meant', async () => {
  const receiver = env.receiver.url; // answers "ok" to anything, as a webhook receiver does
  const misplaced = await herald('subscriptions', 'create', '--url', `${receiver}/hook`, '--event-types', 'cli.misplaced');
  expect(misplaced).toMatchObject({ code: 1, stdout: '' });
  expect(misplaced.stderr).toMatch(/^herald: --url after "subscriptions create": --url names the Herald API; .* Did you mean --webhook\?/);
  expect((await herald('subs', 'update', 'sub_x', '--url=http://127.0.0.1:1/')).stderr).toMatch(/Did you mean --webhook\?/);
  expect(env.receiver.requests.filter((r) => r.path.startsWith('/hook'))).toEqual([]);
  const listed = await env.stack.request('GET', '/v1/subscriptions?limit=100');
  expect(listed.body.data.filter((s: { eventTypes: string[] }) => s.eventTypes.includes('cli.misplaced'))).toEqual([]);

  const notJson = await runCli(['events', 'list'], { HERALD_URL: `${receiver}/not-herald`, HERALD_API_KEY: env.stack.adminKey });
  expect(notJson).toMatchObject({ code: 1, stdout: '' });
  expect(notJson.stderr).toContain(`herald: GET ${receiver}/not-herald/v1/events`);
  expect(notJson.stderr).toMatch(/ answered 200 \([^)]*\) "ok", not the Herald API's JSON: is the API's URL \(--url, HERALD_URL\) right\?/);
  expect(notJson.stderr).not.toMatch(/Unexpected token/);

  env.receiver.on('/proxy/v1/events/evt-1', () => ({
    status: 502,
    headers: { 'content-type': 'text/html' },
    body: '<html>Bad gateway</html>',
  }));
  const proxied = await runCli(['events', 'get', 'evt-1'], { HERALD_URL: `${receiver}/proxy`, HERALD_API_KEY: env.stack.adminKey });
  expect(proxied.code).toBe(1);
  expect(proxied.stderr).toContain(
    `GET ${receiver}/proxy/v1/events/evt-1 answered 502 (text/html) "<html>Bad gateway</html>", not a problem document of the Herald API`,
  );

  // Before the command, --url names the API, as it always did.
  const placed = await herald(
    '--url',
    env.stack.url,
    'subscriptions',
    'create',
    '--webhook',
    `${receiver}/placed`,
    '--event-types',
    'cli.placed',
    '--json',
  );
  expect(placed).toMatchObject({ code: 0, stderr: '' });
  expect(JSON.parse(placed.stdout)).toMatchObject({ url: `${receiver}/placed` });
});

test('listen verifies deliveries, prints them and forwards them with their signature to the local app', async () => {
  const secret = `whsec_${Buffer.alloc(32, 5).toString('base64')}`;
  const listener = spawnCli(
    ['listen', '--port', '0', '--secret', secret, '--forward', `${env.receiver.url}/forwarded`, '--json'],
    connection(),
  );
  try {
    const url = await eventually(() => /listening on (\S+),/.exec(listener.output.stderr)?.[1], 15_000, 'listen to start');
    await heraldJson('subscriptions', 'create', '--webhook', `${url}/hooks`, '--event-types', 'cli.listen', '--secret', secret);
    const sent = await heraldJson('events', 'send', 'cli.listen', '--data', '{"n": 1}');

    const printed = await eventually(
      () => listener.output.stdout.split('\n').find((l) => l.includes(sent.id)),
      30_000,
      'the event printed',
    );
    expect(JSON.parse(printed)).toMatchObject({ body: { id: sent.id, type: 'cli.listen', data: { n: 1 } }, forwarded: 200 });
    const [forwarded] = env.receiver.received('/forwarded');
    expect(forwarded.headers['webhook-id']).toBe(JSON.parse(printed).webhookId);
    expect(verifyWebhook(secret, forwarded.body, forwarded.headers)).toMatchObject({ id: sent.id });

    // A request that is not signed is refused, and the app never sees it.
    const forged = await fetch(`${url}/hooks`, {
      method: 'POST',
      body: '{}',
      headers: { 'webhook-id': 'msg_x', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,AAAA' },
    });
    expect(forged.status).toBe(401);
    // The answer can arrive before the listener's line about it reaches this process.
    await eventually(() => /rejected: no matching signature/.test(listener.output.stderr), 5_000, 'the rejection printed');
    expect(env.receiver.received('/forwarded')).toHaveLength(1);
  } finally {
    listener.child.kill('SIGTERM');
    await listener.exited;
  }
});

test("import sets aside the items the server refuses (an event type's JSON Schema), sends the rest of the batch, and reports them", async () => {
  const put = await env.stack.request('PUT', '/v1/event-types/cli.schema', {
    description: 'a release',
    schema: { type: 'object', required: ['version'], properties: { version: { type: 'string' } } },
  });
  expect(put.status).toBe(201);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-cli-import-'));
  const file = path.join(dir, 'small.ndjson');
  const lines = [1, 2, 3, 4, 5].map((n) =>
    JSON.stringify({ id: `schema-${n}`, type: 'cli.schema', data: n === 2 || n === 4 ? { version: n } : { version: `1.${n}` } }),
  );
  writeFileSync(file, `${lines.join('\n')}\n`);

  const run = await herald('import', file, '--batch-size', '5', '--json');
  expect(run.code).toBe(1);
  const summary = JSON.parse(run.stdout);
  expect(summary).toMatchObject({ lines: 5, accepted: 3, duplicates: 0 });
  expect(summary.rejected).toEqual([
    { line: 2, reason: expect.stringMatching(/^data\.version: /) },
    { line: 4, reason: expect.stringMatching(/^data\.version: /) },
  ]);

  // Without --json: the same, as a sentence and a table of the rejected lines.
  const again = await herald('import', file);
  expect(again.code).toBe(1);
  expect(again.stdout).toMatch(/5 lines, 0 accepted, 3 duplicates, 2 rejected/);
  expect(again.stdout).toMatch(/^LINE\s+REASON$/m);
  expect(again.stdout).toMatch(/^2\s+data\.version: /m);
});

test('the steering commands: subscriptions update/test/rotate/delete and events replay/cancel/retry', async () => {
  const sub = await heraldJson('subscriptions', 'create', '--webhook', `${env.receiver.url}/steer`, '--event-types', 'cli.steer');
  const updated = await heraldJson('subscriptions', 'update', sub.id, '--name', 'steered', '--no-active');
  expect(updated).toMatchObject({ id: sub.id, name: 'steered', active: false });
  expect(await heraldJson('subscriptions', 'update', sub.id, '--active')).toMatchObject({ active: true });

  const ping = await herald('subscriptions', 'test', sub.id);
  expect(ping.stdout).toMatch(/^status\s+succeeded$/m);
  expect(ping.stdout).toMatch(/^response\s+200$/m);

  const rotated = await heraldJson('subscriptions', 'rotate', sub.id);
  expect(rotated.secret).toMatch(/^whsec_/);
  expect(rotated.secret).not.toBe(sub.secret);

  const sent = await heraldJson('events', 'send', 'cli.steer', '--data', '{}');
  await eventually(async () => (await heraldJson('events', 'get', sent.id)).status === 'delivered', 30_000, 'delivered');
  const replay = await herald('events', 'replay', sent.id);
  expect(replay).toMatchObject({ code: 0, stdout: `event/default/${sent.id}/replay/1\n` });
  await eventually(() => env.receiver.received('/steer').filter((r) => r.body.includes(sent.id)).length === 2, 15_000, 'the replay');
  // Nothing left to cancel or retry: both answer with no workflow told.
  expect(await heraldJson('events', 'cancel', sent.id)).toEqual({ workflowIds: [] });
  expect(await herald('events', 'retry', sent.id, '--subscription', sub.id)).toMatchObject({
    code: 0,
    stdout: '(no delivery to signal)\n',
  });

  expect(await herald('subscriptions', 'delete', sub.id)).toMatchObject({ code: 0, stdout: `deleted ${sub.id}\n` });
  expect((await herald('subscriptions', 'get', sub.id)).stderr).toMatch(/^herald: 404 /);
});
