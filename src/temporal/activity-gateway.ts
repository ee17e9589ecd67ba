import type { Client } from '@temporalio/client';
import type { TemporalGateway } from '../activities/gateway';
import type { collectDigest } from '../workflows/collect-digest';
import { digestSignal, retrySignal, type CollectDigestInput, type DigestEntry } from '../workflows/definitions';
import { sendRetry, signalIfRunning, startDeliverEvent } from './deliver-event-client';
import { emitEvent } from './herald-events';
import { COLLECT_DIGEST_WORKFLOW, digestWorkflowId, eventWorkflowId } from './names';
import { HeraldTenant } from './search-attributes';

const START_DEADLINE_MS = 10_000;

/** The activities' gateway to Temporal, through the worker's own client. */
export function temporalGateway(client: Client, taskQueue: string): TemporalGateway {
  return {
    async retry(workflowId, request, resume) {
      if (resume) await sendRetry(client, taskQueue, workflowId, resume, request);
      else await signalIfRunning(client, workflowId, retrySignal, request);
    },

    // A retried call signals again; the digest workflow holds each event of a run once.
    async feedDigest(tenant, subscriptionId, entry) {
      await client.workflow.signalWithStart<typeof collectDigest, [DigestEntry]>(COLLECT_DIGEST_WORKFLOW, {
        workflowId: digestWorkflowId(tenant, subscriptionId),
        taskQueue,
        args: [{ tenant, subscriptionId } satisfies CollectDigestInput],
        signal: digestSignal,
        signalArgs: [entry],
        typedSearchAttributes: [{ key: HeraldTenant, value: tenant }],
      });
    },

    emit: (tenant, event) => emitEvent(client, taskQueue, tenant, event),

    // Bounded as the API's starts are: a start Temporal does not answer is tried again by the activity's retry.
    startEvent: (input) =>
      client.connection.withDeadline(Date.now() + START_DEADLINE_MS, () =>
        startDeliverEvent(client, taskQueue, eventWorkflowId(input.tenant, input.event.id), input),
      ),
  };
}
