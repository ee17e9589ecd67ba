import type { KeyLimits } from '../src/domain/key-limits';
import { eventFilter } from '../src/store/events';
import { connectStore, ensureIndexes } from '../src/store';
import { auditEvents, seedAudit } from '../test/harness/audit-seed';
import { startStore } from '../test/harness/servers';

/**
 * `node dist/bench/explain.js`: the store's plan and time for each `GET /v1/events` filter over
 * 10,000 seeded events (EXPLAIN_EVENTS), as the list runs it (sort by occurredAt and id, limit
 * 51), and for keys limited to resources. Against MONGO_URL when given, else the test store (FerretDB, on PostgreSQL when one answers).
 */

const QUERIES: Record<string, string>[] = [
  {},
  { type: 'package.built' },
  { type: 'package.*' },
  { subjectType: 'package', subjectId: 'res-7' },
  { actor: 'actor-3' },
  { correlationId: 'corr-5' },
  { status: 'failed' },
  { since: '2026-11-20T11:00:00Z', until: '2026-11-20T11:30:00Z' },
  { type: 'package.*', actor: 'actor-3', status: 'delivered' },
  { open: 'true', type: 'deployment.started' },
  { q: 'promoted' },
];

const NO_FILTER: Record<string, string> = {};

/** The list of a key limited to resources (src/store/key-limits.ts), unfiltered otherwise. */
const LIMITED: KeyLimits[] = [
  { subjects: [{ type: 'package', id: 'res-7' }] },
  { subjects: [{ type: 'package' }] },
  {
    subjects: [
      { type: 'package', id: 'res-7' },
      { type: 'environment', id: 'res-8' },
    ],
  },
  { eventTypes: ['package.built'] },
  { eventTypes: ['package.*'] },
  { subjects: [{ type: 'package', id: 'res-7' }], eventTypes: ['package.*'] },
];

async function main() {
  const server = process.env.MONGO_URL ? null : await startStore();
  const url = process.env.MONGO_URL ?? `${server!.baseUrl}/herald_explain`;
  const store = await connectStore(url);
  try {
    await store.events.deleteMany({});
    await ensureIndexes(store);
    const count = Number(process.env.EXPLAIN_EVENTS ?? 10_000);
    await seedAudit(store, 'default', auditEvents(count, new Date('2026-11-20T12:00:00Z')));
    await new Promise((r) => setTimeout(r, 2_000)); // the FerretDB wrapper adds its companion indexes each second
    const build = await store.db.command({ buildInfo: 1 });
    console.log(`store: ${build.ferretdbVersion ? `FerretDB ${build.ferretdbVersion}` : `MongoDB ${build.version}`}, ${count} events\n`);
    const runs = [...QUERIES.map((q) => ({ q, limits: undefined })), ...LIMITED.map((limits) => ({ q: NO_FILTER, limits }))];
    for (const { q, limits } of runs) {
      const filter = eventFilter('default', { ...q, open: q.open === undefined ? undefined : q.open === 'true' }, limits);
      const cursor = () => store.events.find(filter).sort({ occurredAt: -1, id: -1 }).limit(51);
      const started = process.hrtime.bigint();
      const found = (await cursor().toArray()).length;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const plan = (await cursor().explain('queryPlanner')) as ExplainAnswer;
      console.log(`## ${JSON.stringify(limits ? { limits } : q)}: ${found} events in ${ms.toFixed(0)} ms`);
      console.log(summarise(plan));
      console.log();
    }
  } finally {
    await store.db.dropDatabase().catch(() => undefined);
    await store.client.close();
    server?.process?.kill('SIGTERM');
    server?.cleanup?.();
  }
}

/** One stage of MongoDB's winning plan, the stage it reads from below it. */
interface MongoStage {
  stage: string;
  indexName?: string;
  inputStage?: MongoStage;
}

/** A node of PostgreSQL's JSON plan, which FerretDB passes on. */
interface PgPlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Recheck Cond'?: string;
  Filter?: string;
  Plans?: PgPlanNode[];
}

/** The fields of an `explain('queryPlanner')` answer read here, from MongoDB or from FerretDB. */
interface ExplainAnswer {
  queryPlanner?: { winningPlan?: MongoStage & { queryPlan?: MongoStage }; Plan?: PgPlanNode };
  filterPushdown?: boolean;
  pushdown?: boolean;
  sortPushdown?: boolean;
  limitPushdown?: boolean;
}

/** MongoDB's winning plan as its stages and index; FerretDB's as its pushdown flags and PostgreSQL's plan. */
function summarise(plan: ExplainAnswer): string {
  const winning = plan.queryPlanner?.winningPlan;
  if (winning && !plan.queryPlanner?.Plan) {
    const stages: string[] = [];
    for (let s: MongoStage | undefined = winning.queryPlan ?? winning; s; s = s.inputStage)
      stages.push(s.indexName ? `${s.stage}(${s.indexName})` : s.stage);
    return stages.join(' <- ');
  }
  const pg = plan.queryPlanner?.Plan;
  const lines = [`pushdown: filter ${plan.filterPushdown ?? plan.pushdown}, sort ${plan.sortPushdown}, limit ${plan.limitPushdown}`];
  const walk = (node: PgPlanNode | undefined, depth: number) => {
    if (!node) return;
    const what = [
      node['Node Type'],
      node['Index Name'] && `on ${node['Index Name']}`,
      node['Index Cond'] ?? node['Recheck Cond'] ?? node.Filter,
    ]
      .filter(Boolean)
      .join(' ');
    lines.push(`${'  '.repeat(depth)}${what}`);
    for (const child of node.Plans ?? []) walk(child, depth + 1);
  };
  walk(pg, 0);
  return lines.join('\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
