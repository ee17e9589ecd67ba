import { Context } from '@temporalio/activity';
import { mapConcurrent } from '../concurrency';
import type { Store } from '../store';
import { failedDeliveries } from '../store/deliveries';
import { deleteExpiredEvents, eventOf, findEventsByIds } from '../store/events';
import { deleteExpiredIngestLog } from '../store/ingest-log';
import type { RecoverDeliveriesInput } from '../workflows/definitions';
import type { TemporalGateway } from './gateway';

/** Maintenance in bounded batches, for the retention and recover workflows: none of it is on the hot path. */

export interface MaintenanceDeps {
  store: Store;
  gateway: TemporalGateway;
}

/** One batch of a recover: the workflow's input without its running total, and a page size. */
export type RecoverBatchInput = Omit<RecoverDeliveriesInput, 'recovered'> & { limit: number };

const SIGNAL_CONCURRENCY = 16;

export function createMaintenanceActivities(deps: MaintenanceDeps) {
  const { store } = deps;
  return {
    /** One batch of the ingestion log's retention: refused requests older than `before`. */
    async deleteExpiredIngestLog(input: { before: string; limit: number }): Promise<number> {
      return deleteExpiredIngestLog(store, new Date(input.before), input.limit);
    },

    /** One batch of retention: events older than `before` with their audit (src/store/events.ts). */
    async deleteExpiredEvents(input: { before: string; limit: number }): Promise<number> {
      return deleteExpiredEvents(store, new Date(input.before), input.limit);
    },

    /**
     * One bounded batch of a recover: sends `retry` for each failed delivery of the page,
     * starting a new run where the event's workflow has closed. Answers where to go on from.
     */
    async recoverBatch(input: RecoverBatchInput): Promise<{ count: number; after: [string, string] | null }> {
      const ctx = Context.current();
      const docs = await failedDeliveries(store, {
        tenant: input.tenant,
        subscriptionId: input.subscriptionId,
        since: new Date(input.since),
        until: new Date(input.until),
        ...(input.after && { after: [new Date(input.after[0]), input.after[1]] as [Date, string] }),
        limit: input.limit,
      });
      const eventIds = [...new Set(docs.map((d) => d.eventId))];
      const stored = new Map((await findEventsByIds(store, input.tenant, eventIds)).map((e) => [e.id, eventOf(e)]));
      await mapConcurrent(docs, SIGNAL_CONCURRENCY, async (doc) => {
        const event = stored.get(doc.eventId);
        if (!event) return; // purged meanwhile
        await deps.gateway.retry(
          doc.workflowId,
          { subscriptionId: input.subscriptionId, requestedBy: input.requestedBy },
          { tenant: input.tenant, event, mode: { kind: 'resume' } },
        );
        ctx.heartbeat();
      });
      const last = docs[docs.length - 1];
      return { count: docs.length, after: docs.length < input.limit || !last ? null : [last.createdAt.toISOString(), last._id] };
    },
  };
}

export type MaintenanceActivities = ReturnType<typeof createMaintenanceActivities>;
