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
 */
import { TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type { WorkflowInterceptors } from '@temporalio/workflow';

interface TracingInterceptors {
  inbound: OpenTelemetryInboundInterceptor;
  outbound: OpenTelemetryOutboundInterceptor;
  internals: OpenTelemetryInternalsInterceptor;
}

export const interceptors = (): WorkflowInterceptors => {
  // Set by `execute`, the first call of every run and of every replay of it.
  let otel: TracingInterceptors | undefined;
  return {
    inbound: [
      {
        execute(input, next) {
          if (input.headers[TRACE_HEADER]) {
            otel = {
              inbound: new OpenTelemetryInboundInterceptor(),
              outbound: new OpenTelemetryOutboundInterceptor(),
              internals: new OpenTelemetryInternalsInterceptor(),
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
    internals: [{ dispose: (input, next) => (otel ? otel.internals.dispose(input, next) : next(input)) }],
  };
};
