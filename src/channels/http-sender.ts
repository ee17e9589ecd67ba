import dns from 'node:dns';
import type { LookupAddress } from 'node:dns';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from '@opentelemetry/semantic-conventions';
import { Agent, request } from 'undici';
import type { AttemptResult } from '../domain/outcome';
import { classifyAddress, classifyUrlHost } from '../domain/targets';
import { TRACER_NAME } from '../tracing';

/** Bytes of a receiver's answer kept in the attempt audit. */
export const RESPONSE_BODY_LIMIT = 4096;

export class TargetRefusedError extends Error {
  readonly code = 'HERALD_TARGET_REFUSED';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A DNS lookup that refuses private, loopback, link-local and other special addresses.
 * It runs inside the connect call, on the very addresses the socket will dial, so a
 * name that resolves differently at delivery time (DNS rebinding) is still caught.
 */
function guardedLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    for (const { address } of addresses) {
      const verdict = classifyAddress(address);
      if (!verdict.allowed) return callback(new TargetRefusedError(`target ${hostname} refused: ${verdict.reason}`), []);
    }
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
}

/** One pooled HTTP client per worker: keep-alive connections are reused across deliveries. */
export function createDispatcher(allowPrivateTargets: boolean): Agent {
  return new Agent({
    keepAliveTimeout: 30_000,
    connections: 64,
    connect: allowPrivateTargets ? {} : { lookup: guardedLookup },
  });
}

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Aborts the request when the activity is cancelled. */
  signal: AbortSignal;
}

export interface WebhookResponse {
  result: AttemptResult;
  status: number | null;
  body: string | null;
}

/**
 * POSTs one webhook. Within a traced attempt the request is a client span of the attempt's
 * trace, and the receiver gets that span's W3C `traceparent`, so a receiver that traces
 * continues Herald's trace. The span names the receiver's host and port but not its URL:
 * webhook URLs often carry credentials in their path or query. An attempt that is not traced
 * (tracing off, or a workflow started without trace context) starts no trace of its own.
 */
export async function postWebhook(dispatcher: Agent, allowPrivateTargets: boolean, req: WebhookRequest): Promise<WebhookResponse> {
  if (!trace.getActiveSpan()?.isRecording()) return post(dispatcher, allowPrivateTargets, req);
  return tracer.startActiveSpan('POST', { kind: SpanKind.CLIENT, attributes: targetAttributes(req.url) }, async (span) => {
    const headers = { ...req.headers };
    propagation.inject(context.active(), headers);
    try {
      const response = await post(dispatcher, allowPrivateTargets, { ...req, headers });
      if (response.status !== null) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, response.status);
      if (response.result.kind === 'error') span.setStatus({ code: SpanStatusCode.ERROR, message: response.result.message });
      else if (response.result.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
      return response;
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'request aborted' });
      throw err;
    } finally {
      span.end();
    }
  });
}

const tracer = trace.getTracer(TRACER_NAME);

function targetAttributes(target: string) {
  const url = new URL(target);
  return {
    [ATTR_HTTP_REQUEST_METHOD]: 'POST',
    [ATTR_SERVER_ADDRESS]: url.hostname,
    [ATTR_SERVER_PORT]: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
  };
}

/**
 * POSTs one webhook. Redirects are never followed (a 3xx is a failed attempt), and only
 * the first 4 KiB of the answer are read.
 */
async function post(dispatcher: Agent, allowPrivateTargets: boolean, req: WebhookRequest): Promise<WebhookResponse> {
  if (!allowPrivateTargets) {
    // Literal addresses never reach the lookup hook, so they are judged here.
    const verdict = classifyUrlHost(new URL(req.url));
    if (!verdict.allowed) return failed(`target refused: ${verdict.reason}`);
  }
  const timeout = AbortSignal.timeout(req.timeoutMs);
  try {
    const res = await request(req.url, {
      method: 'POST',
      headers: req.headers,
      body: req.body,
      dispatcher,
      signal: AbortSignal.any([req.signal, timeout]),
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
    });
    const body = await readCapped(res.body);
    const retryAfter = res.headers['retry-after'];
    return {
      result: { kind: 'response', status: res.statusCode, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter },
      status: res.statusCode,
      body,
    };
  } catch (err) {
    if (req.signal.aborted) throw err;
    if (timeout.aborted) return failed(`timed out after ${req.timeoutMs} ms`);
    return failed(describeError(err));
  }
}

function failed(message: string): WebhookResponse {
  return { result: { kind: 'error', message }, status: null, body: null };
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof TargetRefusedError) return cause.message;
  if (err instanceof TargetRefusedError) return err.message;
  const code = (err as { code?: string }).code ?? (cause as { code?: string } | undefined)?.code;
  return code ? `${code}: ${err.message}` : err.message;
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= RESPONSE_BODY_LIMIT) {
      body.destroy();
      break;
    }
  }
  // NUL cannot be stored by every MongoDB-protocol store (FerretDB on PostgreSQL): shown as U+FFFD.
  return Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT).toString('utf8').replaceAll('\u0000', '\ufffd');
}
