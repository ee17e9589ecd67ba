import type { RequestHandler, Response } from 'express';
import { describeLimits, isLimited, withinLimits, type KeyLimits, type LimitedFields } from '../domain/key-limits';
import { matchesAny } from '../domain/matching';
import { principalOf } from './auth';
import { notFound, ProblemError } from './problem';

/**
 * How the routes hold a limited key (src/domain/key-limits.ts) to its events: an event outside
 * its limits does not exist for it (404, absent from lists), sending one is forbidden (403),
 * and what would show other events' deliveries or change what the whole tenant receives is
 * refused (403, `unlimitedKeysOnly`). docs/guide.md, "Keys limited to resources", has the list.
 */

export function limitsOf(res: Response): KeyLimits | undefined {
  const { limits } = principalOf(res);
  return isLimited(limits) ? limits : undefined;
}

/** Answers the event when the calling key may see it; 404 as for an event that does not exist otherwise. */
export function visibleTo<T extends LimitedFields>(res: Response, event: T | null, id: string): T {
  if (!event || !withinLimits(limitsOf(res), event)) throw notFound(`event ${id}`);
  return event;
}

/**
 * Ingestion by a limited key: every event must be within its limits. A batch with any outside
 * is refused whole, naming each one by the field that puts it outside (`events.{i}.type` or
 * `events.{i}.subject`), so nothing of it is accepted and the producer can resend the rest.
 */
export function checkIngestLimits(res: Response, events: { event: LimitedFields; prefix: string }[]): void {
  const limits = limitsOf(res);
  if (!limits) return;
  const outside = events.flatMap(({ event, prefix }) => {
    if (withinLimits(limits, event)) return [];
    const byType = limits.eventTypes !== undefined && !withinLimits({ eventTypes: limits.eventTypes }, event);
    return [
      byType
        ? { path: `${prefix}type`, message: "is not one of this API key's event types" }
        : { path: `${prefix}subject`, message: "is not one of this API key's subjects" },
    ];
  });
  if (outside.length === 0) return;
  throw new ProblemError(
    403,
    'Forbidden',
    `This API key may send only events within its limits (${describeLimits(limits)}); nothing of the request was accepted.`,
    outside,
  );
}

const limitedRefusal = (limits: KeyLimits, why: string) =>
  new ProblemError(403, 'Forbidden', `This API key is limited to ${describeLimits(limits)}${why}`);

/** Refuses a limited key: for routes whose answer or effect reaches beyond any one event. */
export function unlimitedKeysOnly(what: string): RequestHandler {
  return (_req, res, next) => {
    const limits = limitsOf(res);
    if (!limits) return next();
    next(limitedRefusal(limits, `; ${what}.`));
  };
}

/**
 * Subscriptions and a limited key: it may list and read them (their settings, not their
 * deliveries) and preview what one would send for an event it gives. Anything else is refused:
 * a subscription receives the tenant's events whoever made it, so creating, changing,
 * enabling, deleting or recovering one would reach events outside the key's limits, a test
 * sends to it, and its health counts the deliveries of all the tenant's events.
 */
export const subscriptionsForLimitedKeys: RequestHandler = (req, res, next) => {
  const limits = limitsOf(res);
  const reads = req.method === 'GET' && /^\/[^/]*$/.test(req.path);
  const preview = req.method === 'POST' && /^\/[^/]+\/preview$/.test(req.path);
  if (!limits || reads || preview) return next();
  next(
    limitedRefusal(
      limits,
      `: it may read subscriptions but not change, test, recover or see the health of one, which reaches the whole tenant's events.`,
    ),
  );
};

/**
 * The event-type registry and a limited key: it reads the registry (types and schemas describe
 * events, they are none), and describes a type only when its `eventTypes` cover the type and it
 * has no subject limits, since a type's schema holds every resource's events to it.
 */
export const registryWritesForLimitedKeys: RequestHandler = (req, res, next) => {
  const limits = limitsOf(res);
  if (!limits || (limits.subjects === undefined && matchesAny(limits.eventTypes ?? [], String(req.params.type)))) return next();
  next(limitedRefusal(limits, `: it may describe only event types its event-type limits cover, and only without subject limits.`));
};
