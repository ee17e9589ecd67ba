import { iteratePages } from './pagination';
import type { Transport } from './transport';
import type {
  ListQuery,
  Page,
  Recover,
  RotateSecret,
  StartedWorkflow,
  Subscription,
  SubscriptionCreate,
  SubscriptionPatch,
  SubscriptionTestResult,
} from './types';

/**
 * `test` answers once the ping's attempt ends: within the subscription's `timeoutMs` (at most
 * 60 s) and 10 s more, else 202. Past the client's default 60 s wait, it would give up first.
 */
const TEST_ANSWER_MS = 80_000;

const subscriptionPath = (id: string, action = '') => `/v1/subscriptions/${encodeURIComponent(id)}${action && `/${action}`}`;

/** Subscriptions: who receives which events, where, and how they are retried. */
export class SubscriptionsApi {
  constructor(private readonly http: Transport) {}

  /** The answer holds the signing `secret`, shown only here and on rotation. */
  create(subscription: SubscriptionCreate): Promise<Subscription> {
    return this.http.request('POST', '/v1/subscriptions', { body: subscription });
  }

  list(query: ListQuery = {}): Promise<Page<Subscription>> {
    return this.http.request('GET', '/v1/subscriptions', { query });
  }

  iterate(query: Omit<ListQuery, 'cursor'> = {}): AsyncGenerator<Subscription, void, undefined> {
    return iteratePages((cursor) => this.list({ ...query, cursor }));
  }

  get(id: string): Promise<Subscription> {
    return this.http.request('GET', subscriptionPath(id));
  }

  update(id: string, patch: SubscriptionPatch): Promise<Subscription> {
    return this.http.request('PATCH', subscriptionPath(id), { body: patch, idempotent: true });
  }

  async delete(id: string): Promise<void> {
    await this.http.request('DELETE', subscriptionPath(id));
  }

  /** Sends a `herald.ping` to this subscription only and answers the attempt's outcome. */
  test(id: string): Promise<SubscriptionTestResult> {
    return this.http.request('POST', subscriptionPath(id, 'test'), { timeoutMs: TEST_ANSWER_MS });
  }

  /** The answer holds the new `secret`; the old one keeps signing beside it for 24 hours. */
  rotateSecret(id: string, rotation: RotateSecret = {}): Promise<Subscription> {
    return this.http.request('POST', subscriptionPath(id, 'rotate-secret'), { body: rotation });
  }

  /** Redelivers the subscription's failed deliveries opened in [since, until]. */
  recover(id: string, window: Recover): Promise<StartedWorkflow> {
    return this.http.request('POST', subscriptionPath(id, 'recover'), { body: window });
  }
}
