import type { ClientInterceptors } from '@temporalio/client';
import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';
import { TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/worker';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { Tracing } from '../tracing';

/**
 * How trace context crosses Temporal: a client puts the active context in the headers of the
 * workflows it starts and signals, the workflow interceptors continue it inside the workflow
 * and into the activities it schedules, and the activity interceptor makes each activity's
 * span active while it runs. The client and activity interceptors are added only when the
 * process traces; the workflow interceptors are in every bundle and trace only the workflows
 * whose start carried trace context (src/workflows/tracing-interceptors.ts).
 */

/** The workflow interceptors module, bundled into the workflow bundle (scripts/bundle-workflows.ts). */
export const WORKFLOW_TRACING_MODULE = require.resolve('../workflows/tracing-interceptors');

/** For a Temporal Client: starts and signals carry the active trace context. */
export function tracingClientInterceptors(): ClientInterceptors {
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

/**
 * One span per activity execution, a child of the workflow's span that scheduled it. The
 * activities of a workflow that is not traced get none, rather than a new trace each.
 */
export const tracingActivityInterceptors: ActivityInterceptorsFactory = (ctx) => {
  const otel = new OpenTelemetryActivityInboundInterceptor(ctx);
  return {
    inbound: { execute: (input, next) => (input.headers[TRACE_HEADER] ? otel.execute(input, next) : next(input)) },
    outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
  };
};

/**
 * Workflows cannot export (no I/O in the isolate): their spans leave through this sink and
 * join the process's own batch of spans. Every worker registers it: a workflow started with
 * trace context makes spans on whichever worker runs it, and one that does not trace drops
 * them here.
 */
export function workflowSpanSinks(tracing: Tracing | undefined): InjectedSinks<OpenTelemetrySinks> {
  if (!tracing) return { exporter: { export: { fn: () => undefined } } };
  return { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) };
}
