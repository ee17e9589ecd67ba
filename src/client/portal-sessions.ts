import type { Transport } from './transport';
import type { PortalSession, PortalSessionCreate, TenantSettings, TenantSettingsPatch } from './types';

/** Portal sessions: one-time links that open the portal limited to some subscriptions. */
export class PortalSessionsApi {
  constructor(private readonly http: Transport) {}

  /** The answer's `url` signs its first visitor in; hand it to them, it does not work twice. */
  create(session: PortalSessionCreate): Promise<PortalSession> {
    return this.http.request('POST', '/v1/portal-sessions', { body: session });
  }
}

/** The tenant's settings: which origins may frame its portal sessions. */
export class SettingsApi {
  constructor(private readonly http: Transport) {}

  get(): Promise<TenantSettings> {
    return this.http.request('GET', '/v1/settings');
  }

  update(patch: TenantSettingsPatch): Promise<TenantSettings> {
    return this.http.request('PATCH', '/v1/settings', { body: patch });
  }
}
