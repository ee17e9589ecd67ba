import { Client, Connection, isGrpcServiceError } from '@temporalio/client';
import { status as grpcStatus } from '@grpc/grpc-js';
import { tracingClientInterceptors } from './tracing';

/**
 * The API's Temporal client. The connection is lazy so the API starts (and answers 503)
 * while Temporal is down, and reconnects by itself when it comes back. When the API traces,
 * the workflows it starts continue the trace of the request that started them.
 */
export function createTemporalClient(address: string, namespace: string, traced = false): Client {
  const connection = Connection.lazy({ address });
  return new Client({ connection, namespace, ...(traced && { interceptors: tracingClientInterceptors() }) });
}

/** The gRPC error from Temporal behind `err` (the client wraps it as a `cause`), if any. */
function grpcErrorOf(err: unknown) {
  let cur: unknown = err;
  for (let depth = 0; cur && depth < 5; depth++) {
    if (isGrpcServiceError(cur)) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

const UNREACHED = [grpcStatus.UNAVAILABLE, grpcStatus.DEADLINE_EXCEEDED, grpcStatus.RESOURCE_EXHAUSTED, grpcStatus.CANCELLED];

/** True when Temporal did not answer within the call's deadline: it may have taken the call all the same. */
export function isDeadlineExceeded(err: unknown): boolean {
  return grpcErrorOf(err)?.code === grpcStatus.DEADLINE_EXCEEDED;
}

/** True when Temporal answered that the execution (or history) asked for does not exist. */
export function isNotFound(err: unknown): boolean {
  return grpcErrorOf(err)?.code === grpcStatus.NOT_FOUND;
}

/** True when an error means "Temporal could not be reached in time", not "request refused". */
export function isUnavailable(err: unknown): boolean {
  const grpc = grpcErrorOf(err);
  return grpc !== undefined && UNREACHED.includes(grpc.code);
}

// Temporal's words for a search attribute its namespace lacks: SQL visibility's, and the others'.
// Its other refusals that name one (a value of the wrong type, or too long) are the request's.
const MISSING_SEARCH_ATTRIBUTE = /no mapping defined for search attribute (Herald\w+)/;
const UNDEFINED_SEARCH_ATTRIBUTE = /search attribute (Herald\w+) is not defined/;

/**
 * The search attribute of Herald's that Temporal refused a request for because its namespace
 * lacks it (INVALID_ARGUMENT), or null for any other error: it was never registered, or it was
 * registered moments ago and the frontend's namespace cache has not loaded it yet. Either way the
 * request is fine and works once the namespace has it, so it is not the caller's error.
 */
export function refusedSearchAttribute(err: unknown): string | null {
  const grpc = grpcErrorOf(err);
  if (grpc?.code !== grpcStatus.INVALID_ARGUMENT) return null;
  return (MISSING_SEARCH_ATTRIBUTE.exec(grpc.details) ?? UNDEFINED_SEARCH_ATTRIBUTE.exec(grpc.details))?.[1] ?? null;
}
