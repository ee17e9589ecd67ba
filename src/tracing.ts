import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { envDetectorSync, Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { VERSION } from './version';

/**
 * OpenTelemetry for one Herald process. Nothing here runs unless `OTEL_EXPORTER_OTLP_ENDPOINT`
 * is set: without a registered provider the OpenTelemetry API hands out no-op spans, and the
 * processes leave out the interceptors and log fields that would carry trace context.
 */

/** The name every Herald span is created under. */
export const TRACER_NAME = 'herald';

export interface TracingOptions {
  /** `herald-api` or `herald-worker`; `OTEL_SERVICE_NAME` overrides it. */
  serviceName: string;
  /** The collector's base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`); spans go to `<endpoint>/v1/traces` as OTLP/HTTP JSON. */
  endpoint: string;
}

export interface Tracing {
  /** Where the worker's workflow spans (exported through a sink) are handed over too. */
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Exports what is still buffered and unregisters the provider. */
  shutdown(): Promise<void>;
}

/**
 * Registers a tracer provider for this process, with W3C trace context propagation and an
 * async-local context, exporting in batches (the standard `OTEL_BSP_*` variables tune them).
 * A function rather than an import side effect, so a test can trace an in-process API and
 * stop tracing again.
 */
export function startTracing(options: TracingOptions): Tracing {
  const resource = Resource.default()
    .merge(new Resource({ [ATTR_SERVICE_NAME]: options.serviceName, [ATTR_SERVICE_VERSION]: VERSION }))
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over Herald's defaults.
    .merge(envDetectorSync.detect());
  const url = `${options.endpoint.replace(/\/+$/, '')}/v1/traces`;
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter({ url }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  return {
    spanProcessor,
    resource,
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** The trace and span ids of the active span, for log lines; empty when nothing is traced. */
export function activeTraceFields(): { traceId?: string; spanId?: string } {
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return {};
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}

/** The trace id of the active span, or null when nothing is traced (what the attempt record keeps). */
export function activeTraceId(): string | null {
  return activeTraceFields().traceId ?? null;
}
