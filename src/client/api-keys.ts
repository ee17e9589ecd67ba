import { iteratePages } from './pagination';
import type { Transport } from './transport';
import type { ApiKey, ApiKeyCreate, ListQuery, Page } from './types';

/**
 * API keys (admin key only): one tenant and a set of scopes each; optionally `expiresAt` and
 * resource limits (`subjects`, `eventTypes`), after which a request with the key is answered
 * 401 with a problem whose `type` ends in `/key-expired`.
 */
export class ApiKeysApi {
  constructor(private readonly http: Transport) {}

  /** The answer holds the `key`, shown only here; `expiresAt` must be in the future. */
  create(key: ApiKeyCreate): Promise<ApiKey> {
    return this.http.request('POST', '/v1/api-keys', { body: key });
  }

  list(query: ListQuery = {}): Promise<Page<ApiKey>> {
    return this.http.request('GET', '/v1/api-keys', { query });
  }

  iterate(query: Omit<ListQuery, 'cursor'> = {}): AsyncGenerator<ApiKey, void, undefined> {
    return iteratePages((cursor) => this.list({ ...query, cursor }));
  }

  /** From now on the key answers 401. */
  async revoke(id: string): Promise<void> {
    await this.http.request('DELETE', `/v1/api-keys/${encodeURIComponent(id)}`);
  }
}
