import type { ClientInterceptors } from '@temporalio/client';
import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';
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
 * span active while it runs. Used only when the process traces.
 */

/** The workflow interceptors module, bundled into the traced workflow bundle (scripts/bundle-workflows.ts). */
export const WORKFLOW_TRACING_MODULE = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/** For a Temporal Client: starts and signals carry the active trace context. */
export function tracingClientInterceptors(): ClientInterceptors {
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

/** One span per activity execution, a child of the workflow's span that scheduled it. */
export const tracingActivityInterceptors: ActivityInterceptorsFactory = (ctx) => ({
  inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
  outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
});

/**
 * Workflows cannot export (no I/O in the isolate): their spans leave through this sink and
 * join the process's own batch of spans.
 */
export function tracingSinks(tracing: Tracing): InjectedSinks<OpenTelemetrySinks> {
  return { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) };
}
