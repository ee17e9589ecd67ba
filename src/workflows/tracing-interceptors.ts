/**
 * Workflow interceptors, bundled into every workflow bundle (scripts/bundle-workflows.ts): a
 * workflow whose start carried trace context runs the OpenTelemetry interceptors of
 * `@temporalio/interceptors-opentelemetry` (spans for the run, its activities, signals and
 * children, exported through the worker's sink); any other workflow runs exactly as if
 * there were no interceptors. Not a workflow.
 *
 * Why the decision is the start's and not the worker's: the tracing interceptors add awaits,
 * which can reorder what a workflow does within one task. A workflow must replay the same way
 * on every worker, whether that worker traces or not; its start headers are in its history,
 * so the choice made on the first run is made again on every replay, and turning tracing on
 * or off on the workers never changes how a running workflow replays.
 *
 * OpenTelemetry's modules are loaded by the first traced run only. The SDK evaluates a
 * workflow's modules again for every run it starts in its reused V8 context, and
 * OpenTelemetry's are a third of the bundle: loaded up front, every untraced event paid for them.
 */
import type * as OtelWorkflow from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type { WorkflowInterceptors } from '@temporalio/workflow';

/** `TRACE_HEADER` of `@temporalio/interceptors-opentelemetry`, whose module would load OpenTelemetry to read it. */
export const TRACE_HEADER = '_tracer-data';

interface TracingInterceptors {
  inbound: OtelWorkflow.OpenTelemetryInboundInterceptor;
  outbound: OtelWorkflow.OpenTelemetryOutboundInterceptor;
  internals: OtelWorkflow.OpenTelemetryInternalsInterceptor;
}

export const interceptors = (): WorkflowInterceptors => {
  // Set by `execute`, the first call of every run and of every replay of it.
  let otel: TracingInterceptors | undefined;
  return {
    inbound: [
      {
        execute(input, next) {
          if (input.headers[TRACE_HEADER]) {
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- the lazy, synchronous load the header describes
            const tracing = require('@temporalio/interceptors-opentelemetry/lib/workflow') as typeof OtelWorkflow;
            otel = {
              inbound: new tracing.OpenTelemetryInboundInterceptor(),
              outbound: new tracing.OpenTelemetryOutboundInterceptor(),
              internals: new tracing.OpenTelemetryInternalsInterceptor(),
            };
          }
          return otel ? otel.inbound.execute(input, next) : next(input);
        },
        handleSignal: (input, next) => (otel ? otel.inbound.handleSignal(input, next) : next(input)),
        handleUpdate: (input, next) => (otel ? otel.inbound.handleUpdate(input, next) : next(input)),
        validateUpdate: (input, next) => (otel ? otel.inbound.validateUpdate(input, next) : next(input)),
        handleQuery: (input, next) => (otel ? otel.inbound.handleQuery(input, next) : next(input)),
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => (otel ? otel.outbound.scheduleActivity(input, next) : next(input)),
        scheduleLocalActivity: (input, next) => (otel ? otel.outbound.scheduleLocalActivity(input, next) : next(input)),
        startChildWorkflowExecution: (input, next) => (otel ? otel.outbound.startChildWorkflowExecution(input, next) : next(input)),
        startNexusOperation: (input, next) => (otel ? otel.outbound.startNexusOperation(input, next) : next(input)),
        continueAsNew: (input, next) => (otel ? otel.outbound.continueAsNew(input, next) : next(input)),
        signalWorkflow: (input, next) => (otel ? otel.outbound.signalWorkflow(input, next) : next(input)),
        getLogAttributes: (input, next) => (otel ? otel.outbound.getLogAttributes(input, next) : next(input)),
      },
    ],
    internals: [
      {
        dispose: (input, next) => {
          // The SDK calls dispose without awaiting it; OpenTelemetry's is async but never awaits, so it is done on return.
          if (otel) void otel.internals.dispose(input, next);
          else next(input);
        },
      },
    ],
  };
};
