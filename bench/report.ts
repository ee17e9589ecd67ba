import type { LatencySummary } from './load';

/** What one `make bench` run measured: written as JSON, summarised as Markdown. */
export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  workers: number;
  store: string;
  /** The FerretDB wrapper the run used: its path and the first 16 hex digits of its SHA-256. */
  storeBuild: { binary: string; sha256: string };
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string; platform: string };
  baseline: { deliveriesPerSecond: number; latency: LatencySummary; concurrency: number };
  ingest?: Array<{
    mode: string;
    batchSize: number;
    level: number;
    requests: number;
    failed: number;
    eventsPerSecond: number;
    latency: LatencySummary;
    errors: Record<string, number>;
    /** Batches only: from the first sent until every accepted event's run had closed (its audit final). */
    catchUp?: { events: number; seconds: number; eventsPerSecond: number };
  }>;
  e2e?: E2eEntry[];
  e2eHold?: { rate: number; trials: E2eEntry[] };
  import?: {
    events: number;
    accepted: number;
    importEventsPerSecond: number;
    delivered: number;
    complete: boolean;
    lastDeliveryAfterImportMs: number;
    deliveriesPerSecond: number;
  };
  fanout?: Array<{ subscriptions: number; received: number; complete: boolean; firstReceiptMs: number; lastReceiptMs: number }>;
  sustained?: {
    offeredEventsPerSecond: number;
    fanout: number;
    durationS: number;
    acceptedEvents: number;
    rejectedEvents: number;
    deliveriesPerSecond: number;
    backlogAtEnd: number;
    drained: boolean;
    drainMs: number;
    latency: LatencySummary;
    duplicates: number;
    workerRssMbMax: number;
    apiRssMbMax: number;
    /** CPU ms per delivery made in the window, by part of the stack (PostgreSQL split into the backends of Temporal's databases and of the store's). */
    cpuMsPerDelivery?: Record<string, number>;
    /** The worker's share of `cpuMsPerDelivery` by thread name; `(ended threads, rounding)` is mostly what threads that exited in the window used. */
    workerThreadCpuMsPerDelivery?: Record<string, number>;
    samples: Array<{ t: number; deliveriesPerSecond: number; backlog: number; workerRssMb: number; apiRssMb: number }>;
  };
  /** The floor's throughput and CPU per workflow by process, offered more than it takes. */
  floorCost?: Array<{
    fanout: number;
    offeredPerSecond: number;
    workflows: number;
    elapsedMs: number;
    workflowsPerSecond: number;
    cpuMsPerWorkflow: Record<string, number>;
  }>;
  stepped?: {
    stepS: number;
    graceS: number;
    p99LimitMs: number;
    rates: number[];
    ladders: Array<{ fanout: number; herald: StepEntry[]; floor: StepEntry[]; heraldHighestHeld: number; floorHighestHeld: number }>;
  };
  receiver: { requests: number; verified: number; badSignatures: number; faulted: number };
  /** N events to one subscription per destination kind, timed until its consumer saw N distinct messages. */
  destinations?: {
    events: number;
    kinds: Array<{ kind: string; consumed: number; acceptedMs: number; elapsedMs: number; deliveriesPerSecond: number }>;
  };
}

/** One step of the stepped scenario (bench/stepped.ts). */
export interface StepEntry {
  offeredPerSecond: number;
  durationS: number;
  accepted: number;
  rejected: number;
  /** Distinct deliveries received within the grace after the step; with fan-out 0, workflows closed. */
  delivered: number;
  /** Events whose every delivery arrived (fan-out 0: whose workflow closed) within the grace. */
  complete: number;
  /** Per complete event: ingest → its last receipt; with fan-out 0, ingest → its workflow closed. */
  latency: LatencySummary;
  held: boolean;
  errors: Record<string, number>;
  /** CPU by process from the step's start until its events were done, per accepted event. */
  cpuMsPerEvent?: Record<string, number>;
}

interface E2eEntry {
  offeredPerSecond: number;
  durationS: number;
  accepted: number;
  rejected: number;
  received: number;
  latency: LatencySummary;
}

const ms = (v: number) => (Number.isFinite(v) ? `${Math.round(v)} ms` : 'n/a');
/** Two significant digits, without the exponent toPrecision gives from 100 up. */
const twoDigits = (v: number) => (v >= 10 ? String(Math.round(v)) : v.toPrecision(2));
const ratio = (v: number, base: number) => (base > 0 && Number.isFinite(v) ? `${twoDigits((100 * v) / base)}%` : 'n/a');
const times = (v: number, base: number) => (base > 0 && Number.isFinite(v) && Number.isFinite(base) ? `${twoDigits(v / base)}×` : 'n/a');

/** One table per fan-out, Herald's figures beside the floor's, and the highest rate each held. */
function floorCostSection(cost: NonNullable<BenchResults['floorCost']>): string[] {
  return [
    '## Floor cost: what the Temporal server spends per bare workflow',
    '',
    'A fixed number of floor workflows (bench/floor/) offered faster than the server takes them; throughput is workflows / (first start → all closed), ' +
      "CPU is what each process used in that time divided by the workflows (PostgreSQL: the backends of Temporal's history and visibility databases).",
    '',
    '| F | offered | workflows | workflows/s | Temporal ms | PostgreSQL: history ms | PostgreSQL: visibility ms | floor worker ms | total ms |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...cost.map((c) => {
      const parts = ['temporal', 'postgres (history)', 'postgres (visibility)', 'worker'].map((name) => c.cpuMsPerWorkflow[name] ?? 0);
      const total = Math.round(parts.reduce((a, b) => a + b, 0) * 100) / 100;
      return `| ${c.fanout} | ${c.offeredPerSecond}/s | ${c.workflows} | ${c.workflowsPerSecond} | ${parts.join(' | ')} | ${total} |`;
    }),
  ];
}

function steppedSection(r: BenchResults, s: NonNullable<BenchResults['stepped']>): string[] {
  const base = r.baseline.deliveriesPerSecond;
  const held = (e: StepEntry | undefined) => (e ? (e.held ? 'yes' : '**no**') : '—');
  const top = Math.max(...s.rates);
  const lines = [
    '## Stepped fan-out: Herald against the floor',
    '',
    `Each step offers events at a fixed rate for ${s.stepS} s, each to F deliveries. A step is held when every delivery arrived within ${s.graceS} s of the step's end ` +
      `and p99 of ingest → the event's last receipt (with F = 0: ingest → its workflow closed, from Temporal's visibility) is under ${ms(s.p99LimitMs)}; ` +
      `the ladder stops at the first step not held. The floor (bench/floor/) is a bare workflow per event POSTing through F local activities, with no store: ` +
      `the same Temporal server, receiver, signing and worker slots as Herald. H/F is Herald / floor. ` +
      `Direct POST (baseline): ${base} deliveries/s, p50 ${ms(r.baseline.latency.p50)}, p99 ${ms(r.baseline.latency.p99)}.`,
  ];
  for (const { fanout, herald, floor, heraldHighestHeld, floorHighestHeld } of s.ladders) {
    const rates = s.rates.filter((rate) => [...herald, ...floor].some((e) => e.offeredPerSecond === rate));
    const direct = fanout > 0 ? Math.round(base / fanout) : 0;
    lines.push(
      '',
      `### F = ${fanout}${fanout === 0 ? ' (no delivery: "delivered" counts workflows closed)' : ''}`,
      '',
      '| offered | vs direct POST | Herald accepted | Herald delivered | floor delivered | delivered H/F | Herald p50 | floor p50 | p50 H/F | Herald p99 | floor p99 | p99 H/F | Herald held | floor held |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
      ...rates.map((rate) => {
        const h = herald.find((e) => e.offeredPerSecond === rate);
        const f = floor.find((e) => e.offeredPerSecond === rate);
        const cell = (e: StepEntry | undefined, value: (e: StepEntry) => string) => (e ? value(e) : '—');
        const cells = [
          `${rate}/s for ${s.stepS} s`,
          fanout > 0 ? ratio(rate * fanout, base) : 'n/a',
          cell(h, (e) => `${e.accepted}${e.rejected ? ` (${e.rejected} rejected)` : ''}`),
          cell(h, (e) => String(e.delivered)),
          cell(f, (e) => `${e.delivered}${e.rejected ? ` (${e.rejected} not started)` : ''}`),
          h && f ? ratio(h.delivered, f.delivered) : '—',
          cell(h, (e) => ms(e.latency.p50)),
          cell(f, (e) => ms(e.latency.p50)),
          h && f ? times(h.latency.p50, f.latency.p50) : '—',
          cell(h, (e) => ms(e.latency.p99)),
          cell(f, (e) => ms(e.latency.p99)),
          h && f ? times(h.latency.p99, f.latency.p99) : '—',
          held(h),
          held(f),
        ];
        return `| ${cells.join(' | ')} |`;
      }),
      '',
      `highest held: Herald ${heraldHighestHeld}/s, floor ${floorHighestHeld}/s (${ratio(heraldHighestHeld, floorHighestHeld)})` +
        (fanout > 0
          ? `; direct POST's rate at this fan-out: ${direct} events/s (Herald ${ratio(heraldHighestHeld, direct)}, floor ${ratio(floorHighestHeld, direct)}).`
          : '.') +
        // A ladder held to its top step says only that the limit lies above it.
        (heraldHighestHeld === top ? ` Herald held every step: ${top}/s is a lower bound.` : '') +
        (floorHighestHeld === top ? ` The floor held every step: ${top}/s is a lower bound.` : ''),
    );
    lines.push(...cpuPerEventLines(rates, herald, floor));
  }
  return lines;
}

/** CPU per event in each step, all processes and by process, Herald beside the floor. */
function cpuPerEventLines(rates: number[], herald: StepEntry[], floor: StepEntry[]): string[] {
  const total = (e: StepEntry | undefined) =>
    e?.cpuMsPerEvent ? Math.round(Object.values(e.cpuMsPerEvent).reduce((sum, v) => sum + v, 0) * 10) / 10 : undefined;
  const parts = (e: StepEntry | undefined) =>
    e?.cpuMsPerEvent
      ? Object.entries(e.cpuMsPerEvent)
          .map(([name, v]) => `${name} ${v}`)
          .join(', ')
      : '—';
  const rows = rates.flatMap((rate) => {
    const h = herald.find((e) => e.offeredPerSecond === rate);
    const f = floor.find((e) => e.offeredPerSecond === rate);
    if (total(h) === undefined && total(f) === undefined) return [];
    const [ht, ft] = [total(h), total(f)];
    return [
      `| ${rate}/s | ${ht ?? '—'} | ${ft ?? '—'} | ${ht !== undefined && ft !== undefined ? times(ht, ft) : '—'} | ${parts(h)} | ${parts(f)} |`,
    ];
  });
  if (!rows.length) return [];
  return [
    '',
    "CPU per accepted event (ms), from each step's start until its events were done (each event's last receipt; with F = 0, " +
      "its workflow closed, found by a query of the step): the work after an event's last receipt, its records and its run's close, is not counted.",
    '',
    '| offered | Herald, all | floor, all | H/F | Herald by process | floor by process |',
    '|---|---:|---:|---:|---|---|',
    ...rows,
  ];
}

function ingestSection(ingest: NonNullable<BenchResults['ingest']>, base: number, floorCost: BenchResults['floorCost']): string[] {
  const floor = floorCost?.find((c) => c.fanout === 0);
  const caughtUp = ingest.flatMap((e) => (e.catchUp ? [{ level: e.level, later: e.mode.endsWith('respond-async'), ...e.catchUp }] : []));
  return [
    '## Ingest (no subscription matches: API + workflow start)',
    '',
    '| load | events/s | ratio | p50 | p95 | p99 | failed |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...ingest.map((e) => {
      const load =
        e.mode === 'fixed-rate'
          ? `${e.level} req/s, 1 event each`
          : `${e.level} caller(s), ${e.batchSize === 1 ? '1 event' : `${e.batchSize}-event batches`}${e.mode.endsWith('respond-async') ? ', `Prefer: respond-async`' : ''}`;
      return `| ${load} | ${e.eventsPerSecond} | ${ratio(e.eventsPerSecond, base)} | ${ms(e.latency.p50)} | ${ms(e.latency.p95)} | ${ms(e.latency.p99)} | ${e.failed} |`;
    }),
    '',
    ...(caughtUp.length
      ? [
          "The audit catching up after the batches (from the first batch sent until every accepted event's run had closed, its audit final)" +
            (floor ? `, against the floor's bare workflows with no delivery (floor cost, F = 0: ${floor.workflowsPerSecond}/s):` : ':'),
          '',
          ...caughtUp.map(
            (e) =>
              `- ${e.level} caller(s)${e.later ? ', `Prefer: respond-async`' : ''}: ${e.events} events in ${e.seconds.toFixed(1)} s, **${e.eventsPerSecond} events/s**` +
              (floor ? ` (${Math.round((e.eventsPerSecond / floor.workflowsPerSecond) * 100)} % of the floor's)` : ''),
          ),
          '',
        ]
      : []),
  ];
}

function e2eSection(r: BenchResults, e2e: NonNullable<BenchResults['e2e']>, base: number): string[] {
  return [
    '## End-to-end: ingest → receipt, one subscription',
    '',
    '| offered | accepted | received | ratio | p50 | p95 | p99 | max |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...[...e2e, ...(r.e2eHold?.trials ?? [])].map(
      (e) =>
        `| ${e.offeredPerSecond}/s for ${e.durationS} s | ${e.accepted} | ${e.received} | ${ratio(e.offeredPerSecond, base)} | ${ms(e.latency.p50)} | ${ms(e.latency.p95)} | ${ms(e.latency.p99)} | ${ms(e.latency.max)} |`,
    ),
    '',
    r.e2eHold
      ? `Highest rate held for 60 s with p99 < 1 s: **${r.e2eHold.rate} events/s** (${ratio(r.e2eHold.rate, base)} of the baseline).`
      : 'The 60-second hold search runs in the full bench only.',
    '',
  ];
}

function importSection(imported: NonNullable<BenchResults['import']>): string[] {
  return [
    '## Import: `herald import` of an NDJSON file, one subscription',
    '',
    `${imported.accepted} of ${imported.events} events accepted at **${imported.importEventsPerSecond} events/s**; ` +
      `${imported.delivered} delivered${imported.complete ? '' : ' (not all)'}, the last ${ms(imported.lastDeliveryAfterImportMs)} after the import ended ` +
      `(${imported.deliveriesPerSecond} deliveries/s from the import's start).`,
    '',
  ];
}

function destinationsSection(d: NonNullable<BenchResults['destinations']>, base: number): string[] {
  return [
    '## Destinations: deliveries/s per kind',
    '',
    `${d.events} events to one subscription of each kind, one kind at a time, timed from the first ingest until a consumer of that kind had seen ${d.events} distinct webhook-ids (RabbitMQ, MQTT: a subscribed client; NATS: the JetStream stream's count; Redis: XRANGE).`,
    '',
    '| destination | consumed | all accepted after | all consumed after | deliveries/s | vs direct POST |',
    '|---|---:|---:|---:|---:|---:|',
    ...d.kinds.map(
      (k) =>
        `| ${k.kind} | ${k.consumed}/${d.events} | ${ms(k.acceptedMs)} | ${ms(k.elapsedMs)} | ${k.deliveriesPerSecond} | ${ratio(k.deliveriesPerSecond, base)} |`,
    ),
    '',
  ];
}

function fanoutSection(fanout: NonNullable<BenchResults['fanout']>, base: number): string[] {
  return [
    '## Fan-out: one event to N subscriptions',
    '',
    '| subscriptions | received | first receipt | last receipt | deliveries/s | ratio |',
    '|---:|---:|---:|---:|---:|---:|',
    ...fanout.map((f) => {
      const perSecond = Math.round((f.received / Math.max(1, f.lastReceiptMs)) * 1000);
      return `| ${f.subscriptions} | ${f.received} | ${ms(f.firstReceiptMs)} | ${ms(f.lastReceiptMs)} | ${perSecond} | ${ratio(perSecond, base)} |`;
    }),
    '',
  ];
}

function sustainedSection(sustained: NonNullable<BenchResults['sustained']>, base: number): string[] {
  return [
    `## Sustained: fan-out ${sustained.fanout}`,
    '',
    `Offered ${sustained.offeredEventsPerSecond} events/s (${sustained.offeredEventsPerSecond * sustained.fanout} deliveries/s) for ${sustained.durationS} s: ` +
      `**${sustained.deliveriesPerSecond} deliveries/s** delivered in the window (${ratio(sustained.deliveriesPerSecond, base)} of the baseline), ` +
      `backlog at the end ${sustained.backlogAtEnd}, ${sustained.drained ? `drained ${ms(sustained.drainMs)} later` : `not drained ${ms(sustained.drainMs)} later`}; ` +
      `ingest→receipt p50 ${ms(sustained.latency.p50)}, p99 ${ms(sustained.latency.p99)}; duplicates ${sustained.duplicates}. ` +
      `Peak RSS: worker(s) ${sustained.workerRssMbMax} MB, API ${sustained.apiRssMbMax} MB.` +
      (sustained.cpuMsPerDelivery
        ? ` CPU per delivery: ${Object.entries(sustained.cpuMsPerDelivery)
            .map(([name, cpu]) => `${name} ${cpu} ms`)
            .join(', ')}.`
        : '') +
      (sustained.workerThreadCpuMsPerDelivery
        ? ` The worker's by thread: ${Object.entries(sustained.workerThreadCpuMsPerDelivery)
            .map(([name, cpu]) => `${name} ${cpu} ms`)
            .join(', ')}.`
        : ''),
    '',
  ];
}

export function markdownReport(r: BenchResults): string {
  const base = r.baseline.deliveriesPerSecond;
  const lines = [
    `# Herald bench ${r.startedAt}${r.quick ? ' (QUICK)' : ''}`,
    '',
    `${r.machine.cpus} cores (${r.machine.cpuModel}), ${r.machine.memoryGb} GB, Node ${r.machine.node}. ` +
      `Temporal server v1.29.1 on PostgreSQL, store FerretDB on ${r.store} (\`${r.storeBuild.binary}\`, SHA-256 ${r.storeBuild.sha256}…), ` +
      `${r.workers} worker process(es), one API process; everything on this machine.`,
    '',
    '## Baseline: the physical limit',
    '',
    `A plain Node loop POSTing the same signed deliveries straight to the receiver with ${r.baseline.concurrency} callers: ` +
      `**${base} deliveries/s**, latency p50 ${ms(r.baseline.latency.p50)}, p99 ${ms(r.baseline.latency.p99)}. Ratios below are percentages of this rate.`,
    '',
    ...(r.ingest ? ingestSection(r.ingest, base, r.floorCost) : []),
    ...(r.e2e ? e2eSection(r, r.e2e, base) : []),
    ...(r.import ? importSection(r.import) : []),
    ...(r.fanout ? fanoutSection(r.fanout, base) : []),
    ...(r.destinations ? destinationsSection(r.destinations, base) : []),
    ...(r.sustained ? sustainedSection(r.sustained, base) : []),
    ...(r.floorCost ? floorCostSection(r.floorCost) : []),
    ...(r.stepped ? steppedSection(r, r.stepped) : []),
    '',
    `Receiver: ${r.receiver.requests} requests, ${r.receiver.verified} signatures verified with the standardwebhooks library, ${r.receiver.badSignatures} bad.`,
    '',
  ];
  return lines.join('\n');
}
