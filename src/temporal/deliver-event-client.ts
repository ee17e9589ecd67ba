import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { deliverEvent } from '../workflows/deliver-event';
import { cancelSignal, DELIVER_EVENT_REVISION, retrySignal, type ControlRequest, type DeliverEventInput } from '../workflows/definitions';
import { DELIVER_EVENT_WORKFLOW } from './names';
import { HeraldEventType, HeraldStatus, HeraldTenant, indexableEventType } from './search-attributes';

/** How Herald's processes start and steer `deliverEvent` workflows: one place for their options. */

function searchAttributes(input: DeliverEventInput) {
  return [
    { key: HeraldTenant, value: input.tenant },
    { key: HeraldEventType, value: indexableEventType(input.event.type) },
    { key: HeraldStatus, value: 'delivering' },
  ];
}

/**
 * Starts an event's workflow once: Temporal refuses a second start of the same id, also
 * after the first run closed, which makes racing duplicates safe. False for a duplicate.
 */
export async function startDeliverEvent(client: Client, taskQueue: string, workflowId: string, input: DeliverEventInput): Promise<boolean> {
  try {
    await client.workflow.start<typeof deliverEvent>(DELIVER_EVENT_WORKFLOW, {
      workflowId,
      taskQueue,
      args: [{ ...input, revision: DELIVER_EVENT_REVISION }],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
      typedSearchAttributes: searchAttributes(input),
    });
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}

/**
 * Sends `retry` to a delivering workflow, or, when it has closed, starts a new run of the
 * same id that picks up its deliveries from the audit and receives the signal first.
 */
export async function sendRetry(
  client: Client,
  taskQueue: string,
  workflowId: string,
  input: DeliverEventInput & { mode: { kind: 'resume' } },
  request: ControlRequest,
): Promise<void> {
  await client.workflow.signalWithStart<typeof deliverEvent, [ControlRequest?]>(DELIVER_EVENT_WORKFLOW, {
    workflowId,
    taskQueue,
    args: [{ ...input, revision: DELIVER_EVENT_REVISION }],
    signal: retrySignal,
    signalArgs: [request],
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    typedSearchAttributes: searchAttributes(input),
  });
}

/** Sends `cancel` or `retry` to a running workflow; false when it is not running (nothing waits there). */
export async function signalIfRunning(
  client: Client,
  workflowId: string,
  signal: typeof cancelSignal,
  request: ControlRequest,
): Promise<boolean> {
  try {
    await client.workflow.getHandle(workflowId).signal(signal, request);
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/**
 * Terminates a workflow if it is open (one closed or never started is left as it is).
 * Temporal answers a terminate only once the execution is closed: no workflow task or activity
 * of it is dispatched after that, unlike a cancel, which the workflow acts on when it next runs.
 */
export async function terminateIfRunning(client: Client, workflowId: string, reason: string): Promise<void> {
  try {
    await client.workflow.getHandle(workflowId).terminate(reason);
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}
