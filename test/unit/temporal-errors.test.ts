import { status } from '@grpc/grpc-js';
import { isUnavailable, refusedSearchAttribute } from '../../src/temporal/client';

/** How the API tells Temporal's refusals apart; the real refusal is test/integration/ingestion.test.ts's. */

function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata: {} });
}

const wrapped = (cause: Error) => Object.assign(new Error('Failed to start Workflow'), { cause });

test("a refusal naming one of Herald's search attributes is told apart from the other refusals", () => {
  const refused = grpcError(status.INVALID_ARGUMENT, 'Namespace default has no mapping defined for search attribute HeraldTenant');
  expect(refusedSearchAttribute(wrapped(refused))).toBe('HeraldTenant');
  expect(isUnavailable(wrapped(refused))).toBe(false);

  expect(refusedSearchAttribute(grpcError(status.INVALID_ARGUMENT, 'search attribute HeraldStatus is not defined'))).toBe('HeraldStatus');

  expect(refusedSearchAttribute(grpcError(status.INVALID_ARGUMENT, 'WorkflowId length exceeds limit.'))).toBeNull();
  // Registered, but the value is the request's fault: not a namespace to fix.
  expect(
    refusedSearchAttribute(grpcError(status.INVALID_ARGUMENT, 'invalid value for search attribute HeraldTenant of type Keyword: 1')),
  ).toBeNull();
  expect(refusedSearchAttribute(grpcError(status.INVALID_ARGUMENT, 'search attribute CustomKeywordField is not defined'))).toBeNull();
  expect(refusedSearchAttribute(grpcError(status.UNAVAILABLE, 'search attribute HeraldTenant'))).toBeNull();
  expect(refusedSearchAttribute(new Error('search attribute HeraldTenant'))).toBeNull(); // not from Temporal
});
