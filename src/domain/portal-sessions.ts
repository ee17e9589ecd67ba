import { z } from 'zod';
import { isHeraldType } from './matching';
import { eventTypePatternSchema } from './schemas';

/**
 * Portal sessions: a one-time link that signs its visitor in to the portal limited to some
 * subscriptions, for the receiving side (a tenant's customer) who holds no API key. The
 * schemas here feed validation, the OpenAPI document and the client; the rest is the pure
 * arithmetic of what such a session may reach.
 */

/** A session lasts at most a day: the link is for a visit, not a standing credential. */
export const MAX_PORTAL_SESSION_SECONDS = 86_400;

export const portalSessionCreateSchema = z
  .strictObject({
    subscriptionIds: z.array(z.string().min(1).max(64)).min(1).max(100).optional().describe('the subscriptions the portal shows'),
    eventTypes: z
      .array(eventTypePatternSchema)
      .min(1)
      .max(100)
      .optional()
      .describe('or the subscriptions whose every event type these patterns cover (with subscriptionIds: both must hold)'),
    expiresIn: z.number().int().min(1).max(MAX_PORTAL_SESSION_SECONDS).describe('seconds until the link and its session end'),
    readOnly: z.boolean().optional().describe('show only: no test, retry, cancel, recover, edit or secret rotation'),
  })
  .refine((s) => s.subscriptionIds !== undefined || s.eventTypes !== undefined, {
    path: ['subscriptionIds'],
    message: 'give subscriptionIds, eventTypes or both: a portal session is limited to some subscriptions',
  });
export type PortalSessionCreate = z.infer<typeof portalSessionCreateSchema>;

export const portalSessionSchema = z.object({
  id: z.string(),
  url: z.string().describe('open once: it signs its visitor in and is then spent'),
  expiresAt: z.string(),
});

/** `https://app.example.com`, `https://*.example.com` or `http://localhost:3000`: what CSP's `frame-ancestors` takes, and nothing that could break out of it. */
const ORIGIN = /^https?:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?$/;

export const tenantSettingsSchema = z.object({
  portalFrameAncestors: z
    .array(z.string())
    .describe('origins that may show the portal in a frame (CSP frame-ancestors); empty: none, the portal is never framed'),
});
export type TenantSettings = z.infer<typeof tenantSettingsSchema>;

export const tenantSettingsPatchSchema = z.strictObject({
  portalFrameAncestors: z
    .array(
      z
        .string()
        .max(256)
        .transform((o) => o.toLowerCase())
        .refine((o) => ORIGIN.test(o), 'must be an origin: scheme and host, optionally "*." and a port, e.g. "https://app.example.com"'),
    )
    .max(20)
    .optional(),
});

/** The session's limits as stored and as checked. */
export interface PortalLimits {
  subscriptionIds?: string[];
  eventTypes?: string[];
  readOnly: boolean;
}

/**
 * Whether every event type `inner` matches is one `outer` matches too (see matchesPattern):
 * `*` covers everything but Herald's own types, `a.*` covers `a`, `a.b` and `a.*`-below
 * patterns, an exact type covers only itself.
 */
export function patternCovers(outer: string, inner: string): boolean {
  if (outer === '*') return inner === '*' || !isHeraldType(inner.endsWith('.*') ? inner.slice(0, -2) : inner);
  if (inner === '*') return false;
  const innerBase = inner.endsWith('.*') ? inner.slice(0, -2) : inner;
  if (outer.endsWith('.*')) {
    const prefix = outer.slice(0, -2);
    return innerBase === prefix || innerBase.startsWith(`${prefix}.`);
  }
  return outer === inner;
}

/** Every pattern of `inner` is covered by one of `outer`. */
export function patternsCovered(outer: readonly string[], inner: readonly string[]): boolean {
  return inner.every((i) => outer.some((o) => patternCovers(o, i)));
}

/** A subscription is the session's when its id is listed (if ids are) and its event types stay within the session's (if types are). */
export function subscriptionInSession(limits: PortalLimits, sub: { _id: string; eventTypes: readonly string[] }): boolean {
  if (limits.subscriptionIds && !limits.subscriptionIds.includes(sub._id)) return false;
  return !limits.eventTypes || patternsCovered(limits.eventTypes, sub.eventTypes);
}

/**
 * The event types a session may give one of its subscriptions: within the session's types,
 * or, for a session limited by ids only, within the subscription's own (narrowing). Widening
 * them would let the visitor receive events of the tenant that are not theirs.
 */
export function eventTypesAllowed(limits: PortalLimits, current: readonly string[], wanted: readonly string[]): boolean {
  return patternsCovered(limits.eventTypes ?? current, wanted);
}
