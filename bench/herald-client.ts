import { Pool } from 'undici';

/**
 * The bench's and chaos driver's view of Herald: plain HTTP against the API process, as any
 * producer would call it, over one keep-alive pool.
 */

export class HeraldHttp {
  readonly pool: Pool;

  constructor(
    readonly url: string,
    connections: number,
  ) {
    this.pool = new Pool(url, { connections, keepAliveTimeout: 30_000, pipelining: 1 });
  }

  async call<T = unknown>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    key: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; headers: Record<string, unknown>; body: T }> {
    const res = await this.pool.request({
      method,
      path,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text for the error message
    }
    return { status: res.statusCode, headers: res.headers, body: parsed as T };
  }

  /** Calls and throws unless the answer has the expected status. */
  async expect<T = unknown>(
    status: number,
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    key: string,
    body?: unknown,
  ): Promise<T> {
    const res = await this.call<T>(method, path, key, body);
    if (res.status !== status)
      throw new Error(
        `${method} ${path}: ${res.status} ${typeof res.body === 'string' ? res.body : JSON.stringify(res.body)}`.slice(0, 300),
      );
    return res.body;
  }

  /** A key for its own tenant, so scenarios do not see each other's subscriptions. */
  async tenantKey(adminKey: string, tenant: string): Promise<string> {
    const created = await this.expect<{ key: string }>(201, 'POST', '/v1/api-keys', adminKey, {
      name: `bench ${tenant}`,
      tenant,
      scopes: ['events:write', 'events:read', 'subscriptions:write', 'subscriptions:read'],
    });
    return created.key;
  }

  /** A webhook subscription; without `timeoutMs`, the API's default. */
  async subscribe(key: string, url: string, eventTypes: string[], secret: string, timeoutMs?: number): Promise<string> {
    const body = { url, eventTypes, channel: 'webhook', secret, ...(timeoutMs && { timeoutMs }) };
    const created = await this.expect<{ id: string }>(201, 'POST', '/v1/subscriptions', key, body);
    return created.id;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
