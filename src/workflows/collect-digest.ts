import { condition, continueAsNew, ParentClosePolicy, patched, setHandler, startChild, WorkflowIdReusePolicy } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { DIGEST_EVENT_TYPE, DIGEST_MAX_EVENTS, type DigestData } from '../domain/digest';
import { parseDuration } from '../domain/schedule';
import { DELIVER_EVENT_WORKFLOW, digestEventId, eventWorkflowId } from '../temporal/names';
import { HeraldEventType, HeraldStatus, HeraldTenant } from '../temporal/search-attributes';
import type { deliverEvent } from './deliver-event';
import { DELIVER_EVENT_REVISION, digestQuery, digestSignal, type CollectDigestInput, type DigestEntry } from './definitions';
import { historyIsLong } from './history';
import { ownEvent } from '../domain/own-events';

/** A digest workflow idle this long ends; the next event starts it again with signal-with-start. */
const IDLE_FOR_MS = 24 * 60 * 60 * 1000;

/**
 * How many entries sent a digest workflow remembers, newest first: a retried feed comes within
 * the activity's retries, long before this many more entries went out, and the list rides in
 * the input of each continue-as-new (about 100 KB).
 */
const SENT_REMEMBERED = 1000;

/**
 * One subscription's digest: events arrive as `digest` signals (signal-with-start from the
 * event workflows), are held in this workflow's state, and when the window closes or
 * `maxEvents` are held, go out as one `herald.digest` event delivered to the subscription by
 * an ordinary `deliverEvent` child, with its retries, audit, cancel and retry. Signals and
 * timers are durable, so a worker crash loses nothing; an event signalled twice (a retried
 * activity) is held once. The run continues as new when its history grows long, carrying the
 * open window with it.
 */
export async function collectDigest(input: CollectDigestInput): Promise<void> {
  const { tenant, subscriptionId } = input;
  let every = input.every ?? '1h';
  let maxEvents = input.maxEvents ?? DIGEST_MAX_EVENTS;
  const pending: string[] = [...(input.pending ?? [])];
  const held = new Set(pending);
  // From the patch an entry is its event in the run that fed it: a retry of that feed is held
  // once, however many digests went out since, and a replay of an event already sent (another
  // run) is collected again. Before it, an event id sent in the last digest was dropped.
  const byRun = patched('digest-feeds-by-run');
  const keyOf = (entry: Pick<DigestEntry, 'eventId' | 'workflowId'>) =>
    byRun ? `${entry.workflowId ?? ''} ${entry.eventId}` : entry.eventId;
  let sent = new Set(input.sent ?? []);
  /** The keys of the held events, by event id (carried into the next run with them). */
  const heldKeys = new Map<string, string>(Object.entries(input.pendingKeys ?? {}));
  let openedAt = input.openedAt ? Date.parse(input.openedAt) : null;
  let closesAt = input.closesAt ? Date.parse(input.closesAt) : null;
  let sequence = input.sequence ?? 0;

  setHandler(digestSignal, (entry: DigestEntry) => {
    every = entry.every;
    maxEvents = Math.min(entry.maxEvents ?? DIGEST_MAX_EVENTS, DIGEST_MAX_EVENTS);
    const key = keyOf(entry);
    if (held.has(entry.eventId) || sent.has(key)) return;
    held.add(entry.eventId);
    heldKeys.set(entry.eventId, key);
    pending.push(entry.eventId);
    if (closesAt === null) openWindow(Date.now());
  });
  setHandler(digestQuery, () => ({
    pending: pending.length,
    openedAt: openedAt === null ? null : new Date(openedAt).toISOString(),
    closesAt: closesAt === null ? null : new Date(closesAt).toISOString(),
    sequence,
  }));

  function openWindow(at: number): void {
    openedAt = at;
    closesAt = at + parseDuration(every);
  }

  /** Hands the oldest held events, up to maxEvents, to a `deliverEvent` child as one digest event. */
  async function sendDigest(): Promise<void> {
    const batch = pending.splice(0, maxEvents);
    const now = new Date();
    sequence++;
    const data: DigestData = {
      subscriptionId,
      count: batch.length,
      eventIds: batch,
      window: { openedAt: new Date(openedAt ?? now.getTime()).toISOString(), closedAt: now.toISOString() },
    };
    const event = ownEvent({
      id: digestEventId(subscriptionId, openedAt ?? now.getTime(), sequence),
      type: DIGEST_EVENT_TYPE,
      data: { ...data },
      subject: { type: 'subscription', id: subscriptionId },
      actor: 'herald',
      occurredAt: now,
    });
    try {
      // Abandoned, not owned: the digest's delivery keeps its own schedule while this
      // workflow collects the next window or continues as new.
      await startChild<typeof deliverEvent>(DELIVER_EVENT_WORKFLOW, {
        workflowId: eventWorkflowId(tenant, event.id),
        args: [{ tenant, event, mode: { kind: 'digest', subscriptionId }, revision: DELIVER_EVENT_REVISION }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: [
          { key: HeraldTenant, value: tenant },
          { key: HeraldEventType, value: DIGEST_EVENT_TYPE },
          { key: HeraldStatus, value: 'delivering' },
        ],
      });
    } catch (err) {
      // Started already (this workflow was reset past the start): that run delivers it.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    if (byRun) {
      for (const id of batch) sent.add(heldKeys.get(id) ?? keyOf({ eventId: id }));
      sent = new Set([...sent].slice(-SENT_REMEMBERED));
    } else {
      sent = new Set(batch);
    }
    for (const id of batch) {
      held.delete(id);
      heldKeys.delete(id);
    }
    if (pending.length > 0) openWindow(now.getTime());
    else openedAt = closesAt = null;
  }

  for (;;) {
    if (closesAt === null) {
      const woke = await condition(() => pending.length > 0 || historyIsLong(input.historyLimit), IDLE_FOR_MS);
      if (!woke) return;
    }
    if (closesAt !== null) {
      const full = () => pending.length >= maxEvents;
      const remaining = closesAt - Date.now();
      if (remaining > 0 && !full()) await condition(() => full() || historyIsLong(input.historyLimit), remaining);
      if (full() || Date.now() >= closesAt) await sendDigest();
    }
    if (historyIsLong(input.historyLimit)) {
      await continueAsNew<typeof collectDigest>({
        tenant,
        subscriptionId,
        every,
        maxEvents,
        pending,
        ...(heldKeys.size > 0 && { pendingKeys: Object.fromEntries(heldKeys) }),
        ...(openedAt !== null && { openedAt: new Date(openedAt).toISOString() }),
        ...(closesAt !== null && { closesAt: new Date(closesAt).toISOString() }),
        sent: [...sent],
        sequence,
        ...(input.historyLimit && { historyLimit: input.historyLimit }),
      });
    }
  }
}
