import { TRACE_HEADER as libraryHeader } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import { TRACE_HEADER } from '../../src/workflows/tracing-interceptors';

test('the workflow interceptors look for the header the OpenTelemetry interceptors write', () => {
  expect(TRACE_HEADER).toBe(libraryHeader);
});
