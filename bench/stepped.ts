import type { Client } from '@temporalio/client';
import { openLoop, summarize } from './load';
import type { BenchReceiver } from './receiver';
import type { StepEntry } from './report';
import { sleep } from './stack';

/**
 * The stepped scenario of `make bench`: one system offered events at rising fixed rates, each
 * event fanned out to F deliveries, until a step is not held. Herald and the floor
 * (bench/floor/) climb the same ladder on the same Temporal server and receiver.
 */

/** Every delivery of a step must have arrived this long after its offering ended. */
export const GRACE_MS = 60_000;
export const P99_LIMIT_MS = 1_000;

/** One system on the ladder. */
export interface LadderTarget {
  /** `data.run` of the event's body, so this target's receipts are told apart from the rest. */
  runTag(rate: number): string;
  /** Offers event `i`; resolves once the system accepted it (else throws). */
  offer(run: string, i: number): Promise<{ eventId: string; workflowId: string; sentAt: number }>;
  /** A visibility query matching this target's workflows (a step narrows it by start time). */
  workflows: string;
  /** Resolves once this target has no workflow running, so the next step starts idle. */
  drain(what: string): Promise<void>;
  /** CPU used so far (ms) by each process this target runs on, Temporal's included. */
  cpu(): Record<string, number>;
}

export type Progress = (
  scenario: string,
  total: number,
  unit: string,
) => { update(value: number, info?: string): void; done(info?: string): void };

export interface LadderOptions {
  target: LadderTarget;
  name: string;
  fanout: number;
  rates: number[];
  stepMs: number;
  receiver: BenchReceiver;
  temporal: Client;
  progress: Progress;
}

/** Climbs the rates in order and stops at the first step not held: offering more only grows a backlog. */
export async function climbLadder(options: LadderOptions): Promise<StepEntry[]> {
  const steps: StepEntry[] = [];
  for (const rate of options.rates) {
    const entry = await runStep(options, rate);
    steps.push(entry);
    if (!entry.held) break;
  }
  return steps;
}

/** The highest offered rate of a held step (0 when none was). */
export function highestHeld(steps: StepEntry[]): number {
  return Math.max(0, ...steps.filter((s) => s.held).map((s) => s.offeredPerSecond));
}

async function runStep({ target, name, fanout, stepMs, receiver, temporal, progress }: LadderOptions, rate: number): Promise<StepEntry> {
  const run = target.runTag(rate);
  const accepted = new Map<string, { workflowId: string; sentAt: number }>();
  const startedAt = new Date();
  const cpuAtStart = target.cpu();
  const bar = progress(`${name} F=${fanout} @${rate}/s`, stepMs / 1000, 's');
  const offered = await openLoop({
    rate,
    durationMs: stepMs,
    task: async (i) => {
      const { eventId, ...event } = await target.offer(run, i);
      accepted.set(eventId, event);
    },
    onTick: (t, res) => bar.update(t / 1000, `${res.ok} accepted`),
  });
  const deadline = startedAt.getTime() + stepMs + GRACE_MS;
  const finished =
    fanout === 0
      ? await closedBy(temporal, target, startedAt, accepted, deadline)
      : await deliveredBy(receiver, run, fanout, accepted, deadline);
  // From the step's start until its events were done (or the deadline): each step starts idle.
  const cpuAtEnd = target.cpu();
  const latency = summarize(finished.latencies);
  const complete = finished.latencies.length;
  const held = offered.failed === 0 && complete === accepted.size && latency.p99 < P99_LIMIT_MS;
  const entry: StepEntry = {
    offeredPerSecond: rate,
    durationS: stepMs / 1000,
    accepted: accepted.size,
    rejected: offered.failed,
    delivered: finished.delivered,
    complete,
    latency,
    held,
    errors: offered.errors,
    cpuMsPerEvent: Object.fromEntries(
      Object.entries(cpuAtEnd).map(([name, used]) => [
        name,
        Math.round(((used - cpuAtStart[name]) / Math.max(1, accepted.size)) * 10) / 10,
      ]),
    ),
  };
  bar.done(`${complete}/${accepted.size} complete, p50 ${ms(latency.p50)} p99 ${ms(latency.p99)}${held ? ', held' : ', not held'}`);
  await target.drain(`${name} F=${fanout} @${rate}/s`);
  return entry;
}

/** Per event, ingest → its last distinct delivery (all F of them by the deadline, else left out). */
async function deliveredBy(
  receiver: BenchReceiver,
  run: string,
  fanout: number,
  accepted: Map<string, { sentAt: number }>,
  deadline: number,
) {
  const expected = accepted.size * fanout;
  await receiver.until(() => receiver.received(run) >= expected, Math.max(0, deadline - Date.now()));
  // A receipt may repeat a delivery (an attempt re-run after the receiver answered), so the
  // count above can be reached early: the distinct deliveries decide.
  let tally = distinctDeliveries(receiver, run, deadline);
  while (tally.delivered < expected && Date.now() < deadline) {
    await sleep(500);
    tally = distinctDeliveries(receiver, run, deadline);
  }
  const latencies: number[] = [];
  for (const [eventId, { sentAt }] of accepted) {
    const seen = tally.byEvent.get(eventId);
    if (seen && seen.messageIds.size >= fanout) latencies.push(seen.lastAt - sentAt);
  }
  return { delivered: tally.delivered, latencies };
}

/** The run's distinct deliveries received by the deadline, per event with the time of its last one. */
function distinctDeliveries(receiver: BenchReceiver, run: string, deadline: number) {
  const byEvent = new Map<string, { messageIds: Set<string>; lastAt: number }>();
  let delivered = 0;
  for (const receipt of receiver.receiptsOf(run)) {
    if (receipt.receivedAt > deadline) continue;
    const seen = byEvent.get(receipt.eventId) ?? { messageIds: new Set<string>(), lastAt: 0 };
    byEvent.set(receipt.eventId, seen);
    if (seen.messageIds.has(receipt.messageId)) continue;
    seen.messageIds.add(receipt.messageId);
    seen.lastAt = Math.max(seen.lastAt, receipt.receivedAt);
    delivered += 1;
  }
  return { byEvent, delivered };
}

/**
 * With no delivery there is no receipt to time, so an event ends when its workflow closes:
 * its close time in Temporal's visibility store (same machine, same clock). The step's
 * closed workflows are counted once a second until all are closed or the deadline passed,
 * then listed once: a bounded cost, paid after the offering, not during it.
 */
async function closedBy(
  temporal: Client,
  target: LadderTarget,
  startedAt: Date,
  accepted: Map<string, { workflowId: string; sentAt: number }>,
  deadline: number,
) {
  const closed = `${target.workflows} AND StartTime >= '${startedAt.toISOString()}' AND ExecutionStatus != 'Running'`;
  while (Date.now() < deadline && (await temporal.workflow.count(closed)).count < accepted.size) await sleep(1_000);
  const closedAt = new Map<string, number>();
  for await (const execution of temporal.workflow.list({ query: closed })) {
    if (execution.closeTime) closedAt.set(execution.workflowId, execution.closeTime.getTime());
  }
  const latencies: number[] = [];
  for (const { workflowId, sentAt } of accepted.values()) {
    const at = closedAt.get(workflowId);
    if (at !== undefined && at <= deadline) latencies.push(at - sentAt);
  }
  return { delivered: latencies.length, latencies };
}

const ms = (value: number) => (Number.isFinite(value) ? `${Math.round(value)} ms` : 'n/a');
