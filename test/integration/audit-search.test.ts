import { auditEvents, SEED_TYPES, seedAudit, type SeededEvent } from '../harness/audit-seed';
import { useStack } from '../harness/stack';

/**
 * Search over the audit: every filter of `GET /v1/events` alone and combined returns exactly
 * the right events, newest first, and a cursor pages through them once each, also while new
 * events arrive.
 */

const env = useStack();
const END = new Date('2026-11-20T12:00:00Z');
/**
 * Enough for every filter to select some events and not all, and for paging to cross many
 * pages: more would measure the test store's in-memory sort (that is `make bench`'s), not
 * prove more about the filters.
 */
const COUNT = 3_000;
let events: SeededEvent[];

beforeAll(async () => {
  events = auditEvents(COUNT, END);
  await seedAudit(env.stack.store, 'default', events);
}, 300_000);

type Query = Record<string, string>;

/** The filters' meaning, written independently of the store's query. */
function expected(q: Query): string[] {
  const text = q.q?.toLowerCase();
  return events
    .filter((e) => {
      if (q.type) {
        if (q.type.endsWith('.*') ? !(e.type === q.type.slice(0, -2) || e.type.startsWith(q.type.slice(0, -1))) : e.type !== q.type)
          return false;
      }
      if (q.subjectType && e.subject?.type !== q.subjectType) return false;
      if (q.subjectId && e.subject?.id !== q.subjectId) return false;
      if (q.actor && e.actor !== q.actor) return false;
      if (q.correlationId && e.correlationId !== q.correlationId) return false;
      if (q.status && e.status !== q.status) return false;
      if (q.since && Date.parse(e.occurredAt) < Date.parse(q.since)) return false;
      if (q.until && Date.parse(e.occurredAt) > Date.parse(q.until)) return false;
      if (text && ![e.type, e.subject?.type, e.subject?.id, e.actor].some((f) => f?.toLowerCase().includes(text))) return false;
      return true;
    })
    .sort((a, b) => Date.parse(b.occurredAt) - Date.parse(a.occurredAt) || (a.id < b.id ? 1 : -1))
    .map((e) => e.id);
}

async function pageThrough(q: Query, limit: number, onPage?: (n: number) => Promise<void>): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let page = 1; ; page++) {
    const params: URLSearchParams = new URLSearchParams({ ...q, limit: String(limit), ...(cursor ? { cursor } : {}) });
    const res: { status: number; body: any } = await env.stack.request('GET', `/v1/events?${params.toString()}`);
    expect(res.status).toBe(200);
    expect(res.body.data.length).toBeLessThanOrEqual(limit);
    ids.push(...res.body.data.map((e: { id: string }) => e.id));
    cursor = res.body.nextCursor;
    if (!cursor) return ids;
    await onPage?.(page);
  }
}

/** `m` minutes back on the scale of 10,000 seeded events (about 143 minutes), whatever COUNT is. */
const minute = (m: number) => new Date(END.getTime() - (m * 60_000 * COUNT) / 10_000).toISOString();

// The seed ties fields together (type is i % 5, actor i % 10, subject i % 50, status i % 4), so
// each combination below is one the seed can satisfy.
const QUERIES: Query[] = [
  { type: 'package.built' },
  { type: 'package.*' },
  { type: 'deployment.*' },
  { subjectType: 'package' },
  { subjectId: 'res-7' },
  { subjectType: 'environment', subjectId: 'res-8' },
  { actor: 'actor-3' },
  { correlationId: 'corr-5' },
  { status: 'failed' },
  { status: 'delivering' },
  { since: minute(20) },
  { until: minute(135) },
  { since: minute(90), until: minute(75) },
  { type: 'deployment.*', actor: 'actor-3' },
  { subjectId: 'res-10', status: 'delivered' },
  { actor: 'actor-1', correlationId: 'corr-11', since: minute(120) },
  { type: 'user.added', subjectType: 'environment', status: 'delivered', until: minute(40) },
  { q: 'PROMOTED' },
  { q: 'res-4' },
  { q: 'actor-9', type: 'user.*' },
  {
    type: 'deployment.failed',
    subjectType: 'package',
    subjectId: 'res-13',
    actor: 'actor-3',
    correlationId: 'corr-13',
    status: 'delivered',
    since: minute(150),
    until: minute(10),
  },
];

/** The whole selection of a filter, oldest first, from the export (one store query, however many events). */
async function exported(q: Query): Promise<string[]> {
  const res = await env.stack.request('GET', `/v1/events/export?${new URLSearchParams(q).toString()}`);
  expect(res.status).toBe(200);
  return res.body === null
    ? []
    : String(res.body)
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).id);
}

// Each filter's first list page and its whole selection (through the export, which builds its
// query with the same function): paging every filter through the list would cost the test
// store (FerretDB, which sorts in its own memory) a read of the selection per page.
test.each(QUERIES)('filter %j selects exactly its events; the list answers them newest first', async (q) => {
  const want = expected(q);
  expect(want.length).toBeGreaterThan(0); // each query selects something, so a filter ignored would show
  expect(want.length).toBeLessThan(events.length);
  const page = await env.stack.request('GET', `/v1/events?${new URLSearchParams({ ...q, limit: '200' }).toString()}`);
  expect(page.body.data.map((e: { id: string }) => e.id)).toEqual(want.slice(0, 200));
  expect(page.body.nextCursor === null).toBe(want.length <= 200);
  expect(await exported(q)).toEqual([...want].reverse());
});

test('a filter that selects more than a page pages through the list to exactly its events', async () => {
  const q = { type: 'deployment.*', actor: 'actor-3' };
  expect(await pageThrough(q, 200)).toEqual(expected(q));
}, 300_000);

test('paging with limit=37 yields every seeded event once, in order, while new events arrive', async () => {
  // Type by type: the test store (FerretDB) sorts in its own memory, so each page costs a read
  // of every event its filter selects; five types read a fifth of the audit per page.
  const arriving = auditEvents(100, new Date(END.getTime() + 3_600_000), 'late');
  const seen: string[] = [];
  for (const type of SEED_TYPES) {
    const ids = await pageThrough({ type }, 37, async (page) => {
      if (page % 10 === 0) await seedAudit(env.stack.store, 'default', arriving.splice(0, 5));
    });
    // Late events that arrived while this type was paged are newer than its first page: never
    // seen. Those that arrived before are its newest, at the top.
    const original = ids.filter((id) => !id.startsWith('late-'));
    expect(ids.slice(0, ids.length - original.length).every((id) => id.startsWith('late-'))).toBe(true);
    expect(original).toEqual(expected({ type }));
    seen.push(...original);
  }
  expect(arriving.length).toBeLessThan(100);
  expect(new Set(seen).size).toBe(COUNT);
  expect(seen.length).toBe(COUNT);
}, 900_000);

test('bad filters are refused with their paths', async () => {
  const res = await env.stack.request('GET', '/v1/events?type=Bad&status=nope&since=yesterday&open=maybe&cursor=xyz');
  expect(res.status).toBe(400);
  expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['open', 'since', 'status', 'type']);
  const cursor = await env.stack.request('GET', '/v1/events?cursor=xyz');
  expect(cursor.status).toBe(400);
  expect(cursor.body.errors[0].path).toBe('cursor');
});
