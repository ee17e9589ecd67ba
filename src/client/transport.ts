import { setTimeout as sleep } from 'node:timers/promises';
import { problemSchema } from '../domain/schemas';
import { VERSION } from '../version';
import { describeAnswer, HeraldNetworkError, HeraldProblemError, HeraldResponseError } from './errors';
import { DEFAULT_RETRY, delayBefore, OUTCOME_UNKNOWN_TYPE, RETRYABLE_STATUSES, retryAfterMs, type RetryOptions } from './retry';

export interface TransportOptions {
  /** The API's base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  apiKey: string;
  /** A fetch implementation (default: the global one), e.g. to add a proxy or record requests. */
  fetch?: typeof fetch;
  retries?: RetryOptions;
  /** Per request, each try (default 60 s: a subscription test waits for the receiver). */
  timeoutMs?: number;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /**
   * Safe to send twice: then a request whose answer was lost to a network error, or answered
   * 503 `outcome-unknown`, is sent again. 429 and other 503s are retried for every request,
   * since the server did not act on it.
   */
  idempotent?: boolean;
  /** How long to wait for the answer, when a route may take longer than the client's `timeoutMs`. */
  timeoutMs?: number;
  /** Request headers beyond the client's own (`Prefer`, say). */
  headers?: Record<string, string>;
}

/** One HTTP exchange with the API: authentication, JSON, problem answers as errors, retries. */
export class Transport {
  private readonly base: string;
  private readonly fetch: typeof fetch;
  private readonly retry: Required<RetryOptions>;
  private readonly timeoutMs: number;

  constructor(private readonly options: TransportOptions) {
    // A URL fetch cannot take ("localhost:8080", blank) is the caller's mistake, said now: as a
    // network error it would be retried for minutes first.
    const parsed = URL.canParse(options.url) ? new URL(options.url) : null;
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      throw new TypeError(`the API URL must be an http:// or https:// URL, not ${JSON.stringify(options.url)}`);
    }
    this.base = options.url.replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch;
    this.retry = { ...DEFAULT_RETRY, ...options.retries };
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const idempotent = options.idempotent ?? (method === 'GET' || method === 'DELETE');
    let answerLost = false;
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= this.retry.attempts;
      let res: Response;
      try {
        res = await this.send(method, path, options);
      } catch (err) {
        if (last || !idempotent) throw new HeraldNetworkError(`${method} ${path}: ${networkReason(err)}`, { cause: err });
        answerLost = true;
        await sleep(delayBefore(attempt, undefined, this.retry));
        continue;
      }
      if (res.ok) return (res.status === 204 ? undefined : await jsonOf(method, res)) as T;
      if (method === 'DELETE' && answerLost && res.status === 404) {
        // Sent again after its answer was lost: what it deletes is gone, most likely by the first.
        await res.body?.cancel();
        return undefined as T;
      }
      if (!last && RETRYABLE_STATUSES.has(res.status)) {
        if (idempotent) await res.body?.cancel();
        else {
          const problem = await problemOf(method, res);
          if (problem.type === OUTCOME_UNKNOWN_TYPE) throw problem;
        }
        await sleep(delayBefore(attempt, retryAfterMs(res.headers.get('retry-after')), this.retry));
        continue;
      }
      throw await problemOf(method, res);
    }
  }

  private send(method: string, path: string, { query, body, timeoutMs, headers }: RequestOptions): Promise<Response> {
    const url = new URL(this.base + path);
    for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    return this.fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${this.options.apiKey}`,
        accept: 'application/json',
        'user-agent': `herald-client/${VERSION}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(Math.max(timeoutMs ?? 0, this.timeoutMs)),
    });
  }
}

/** Why a request got no answer: fetch says only "fetch failed", its cause which (ECONNREFUSED, ENOTFOUND, a certificate). */
function networkReason(err: unknown): string {
  const { message, cause } = err as Error;
  // Undici's cause may be an AggregateError (one per address tried), whose message is empty.
  const { message: causeMessage, code } = (cause ?? {}) as { message?: unknown; code?: unknown };
  const reason = (typeof causeMessage === 'string' && causeMessage) || (typeof code === 'string' ? code : undefined);
  return reason && reason !== message ? `${message} (${reason})` : message;
}

/**
 * The JSON of a success. Anything else came from something other than the API (a webhook
 * receiver or a proxy at the URL given): said with the URL and status, not a parser's message.
 */
async function jsonOf(method: string, res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new HeraldResponseError(method, res.url, res.status, res.headers.get('content-type'), text);
  }
}

/**
 * The problem an error answer carries; one made from the status line, naming the request,
 * when the body is not a problem (e.g. a proxy's HTML error page).
 */
async function problemOf(method: string, res: Response): Promise<HeraldProblemError> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  const parsed = problemSchema.safeParse(body);
  if (parsed.success) return new HeraldProblemError(parsed.data, body);
  const detail = `${method} ${res.url} answered ${describeAnswer(res.status, res.headers.get('content-type'), text)}, not a problem document of the Herald API`;
  return new HeraldProblemError({ type: 'about:blank', title: res.statusText || 'Error', status: res.status, detail }, body);
}
