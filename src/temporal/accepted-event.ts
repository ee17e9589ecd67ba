import { defaultPayloadConverter, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { HeraldEvent } from '../domain/schemas';
import type { DeliverEventInput } from '../workflows/definitions';
import { eventWorkflowId } from './names';

/**
 * The event an accepted workflow was started with, read from the first event of its history;
 * null when no workflow of this id is running. An accepted event is in Temporal before its
 * workflow writes the audit, and while a backlog holds the workflow's first task no worker
 * can answer a query for it: the start's input is there all the same, from the server alone.
 * A closed workflow whose event the audit lacks was purged or outlived by retention.
 */
export async function acceptedEvent(client: Client, tenant: string, id: string): Promise<HeraldEvent | null> {
  const workflowId = eventWorkflowId(tenant, id);
  try {
    if ((await client.workflow.getHandle(workflowId).describe()).status.name !== 'RUNNING') return null;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
  return (await startInput<DeliverEventInput>(client, { workflowId }))?.event ?? null;
}

/** The input a run was started with: the first event of its history, from the server alone; null when it has none. */
export async function startInput<T>(client: Client, execution: { workflowId: string; runId?: string }): Promise<T | null> {
  const { history } = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution,
    maximumPageSize: 1,
  });
  const payload = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  return payload ? defaultPayloadConverter.fromPayload<T>(payload) : null;
}
