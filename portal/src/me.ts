import type { Me, Scope } from './types';

/** What the signed-in key may do, and where its workflows are shown. */

export function can(me: Me, scope: Scope): boolean {
  // A limited key may read subscriptions, but not their health, which the subscription pages show.
  return me.admin || (me.scopes.includes(scope) && !(isLimitedKey(me) && scope.startsWith('subscriptions:')));
}

/** A key limited to resources: the API refuses it the tenant-wide overview and subscriptions' health (403). */
export function isLimitedKey(me: Me): boolean {
  return me.subjects !== undefined || me.eventTypes !== undefined;
}

/** A portal session (from a one-time link): its subscriptions only, none of the tenant's other pages. */
export function limited(me: Me): boolean {
  return me.portal !== undefined;
}

/** The workflow's page in the Temporal Web UI. */
export function workflowUrl(me: Me, workflowId: string): string {
  return `${me.temporal.uiUrl}/namespaces/${encodeURIComponent(me.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
