import { ApiKeysApi } from './api-keys';
import { EventsApi } from './events';
import { PortalSessionsApi, SettingsApi } from './portal-sessions';
import { SubscriptionsApi } from './subscriptions';
import { Transport, type TransportOptions } from './transport';

/**
 * The Herald client for producers and operators: `herald/client`.
 *
 *   const herald = new HeraldClient({ url: 'http://127.0.0.1:8080', apiKey });
 *   await herald.events.send({ type: 'package.promoted', data: { version: '1.2.3' } });
 */
export class HeraldClient {
  readonly events: EventsApi;
  readonly subscriptions: SubscriptionsApi;
  readonly apiKeys: ApiKeysApi;
  readonly portalSessions: PortalSessionsApi;
  readonly settings: SettingsApi;

  constructor(options: HeraldClientOptions) {
    const http = new Transport(options);
    this.events = new EventsApi(http);
    this.subscriptions = new SubscriptionsApi(http);
    this.apiKeys = new ApiKeysApi(http);
    this.portalSessions = new PortalSessionsApi(http);
    this.settings = new SettingsApi(http);
  }
}

export type HeraldClientOptions = TransportOptions;
export type { RetryOptions } from './retry';
export { HeraldNetworkError, HeraldProblemError, HeraldResponseError } from './errors';
export type * from './types';
