import { setTimeout as sleep } from 'node:timers/promises';
import { problemSchema } from '../domain/schemas';
import { VERSION } from '../version';
import { HeraldNetworkError, HeraldProblemError } from './errors';
import { DEFAULT_RETRY, delayBefore, RETRYABLE_STATUSES, retryAfterMs, type RetryOptions } from './retry';

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
   * Safe to send twice: then a request whose answer was lost to a network error is sent again.
   * 429 and 503 are retried for every request, since the server did not act on it.
   */
  idempotent?: boolean;
}

/** One HTTP exchange with the API: authentication, JSON, problem answers as errors, retries. */
export class Transport {
  private readonly base: string;
  private readonly fetch: typeof fetch;
  private readonly retry: Required<RetryOptions>;
  private readonly timeoutMs: number;

  constructor(private readonly options: TransportOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch;
    this.retry = { ...DEFAULT_RETRY, ...options.retries };
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const idempotent = options.idempotent ?? (method === 'GET' || method === 'DELETE');
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= this.retry.attempts;
      let res: Response;
      try {
        res = await this.send(method, path, options);
      } catch (err) {
        if (last || !idempotent) throw new HeraldNetworkError(`${method} ${path}: ${(err as Error).message}`, { cause: err });
        await sleep(delayBefore(attempt, undefined, this.retry));
        continue;
      }
      if (res.ok) return (res.status === 204 ? undefined : await res.json()) as T;
      if (!last && RETRYABLE_STATUSES.has(res.status)) {
        await res.body?.cancel();
        await sleep(delayBefore(attempt, retryAfterMs(res.headers.get('retry-after')), this.retry));
        continue;
      }
      throw await problemOf(res);
    }
  }

  private send(method: string, path: string, { query, body }: RequestOptions): Promise<Response> {
    const url = new URL(this.base + path);
    for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    return this.fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${this.options.apiKey}`,
        accept: 'application/json',
        'user-agent': `herald-client/${VERSION}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
  }
}

/** The problem an error answer carries; one made from the status line when the body is not a problem. */
async function problemOf(res: Response): Promise<HeraldProblemError> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON, e.g. a proxy's HTML error page: keep the text
  }
  const parsed = problemSchema.safeParse(body);
  const problem = parsed.success ? parsed.data : { type: 'about:blank', title: res.statusText || 'Error', status: res.status, ...(text && { detail: text.slice(0, 500) }) };
  return new HeraldProblemError(problem, body);
}
