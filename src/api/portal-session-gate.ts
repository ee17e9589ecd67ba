import { isDeepStrictEqual } from 'node:util';
import type { RequestHandler, Response } from 'express';
import { eventTypesAllowed, subscriptionInSession } from '../domain/portal-sessions';
import type { EventDetail } from '../domain/schemas';
import { currentDeliveries, eventStatusOf } from '../domain/status';
import type { EventDoc, Store, SubscriptionDoc } from '../store';
import { attemptsForEvent, deliveriesForEvent } from '../store/deliveries';
import { eventOf, findEvent } from '../store/events';
import { filterOf, findSubscription, listSubscriptions } from '../store/subscriptions';
import { principalOf, type Principal } from './auth';
import { notFound, ProblemError } from './problem';
import { attemptView, deliveryView, subscriptionView } from './views';

/**
 * What a portal session may reach of the API, and nothing else: an allow-list of routes, each
 * with its check on the session's limits, in front of every router. A route missing here
 * answers 403 to a session, so a route added later is closed to sessions until it is listed.
 * Subscriptions outside the session, and events none of whose deliveries are to its
 * subscriptions, answer 404 as another tenant's would. Answers that would show other
 * subscriptions (the list, an event's deliveries and attempts) are built here, filtered.
 */

type Limits = NonNullable<Principal['portal']>;

interface Call {
  tenant: string;
  limits: Limits;
  /** The path's first id, decoded as the routers decode it. */
  id: string;
  body: unknown;
  res: Response;
}

/** `'pass'`: the request goes on to its router; otherwise the check answered it. */
type Check = (call: Call) => Promise<'pass' | void>;

const readOnlyRefusal = () => new ProblemError(403, 'Forbidden', 'This portal session is read-only.');

export function portalSessionGate(deps: { store: Store }): RequestHandler {
  const { store } = deps;

  async function ownSubscription({ tenant, limits, id }: Call): Promise<SubscriptionDoc> {
    const sub = await findSubscription(store, tenant, id);
    if (!sub || !subscriptionInSession(limits, sub)) throw notFound(`subscription ${id}`);
    return sub;
  }

  /** The ids among these that are the session's subscriptions. */
  async function ownIds(tenant: string, limits: Limits, ids: Iterable<string>): Promise<Set<string>> {
    const subs = await Promise.all([...new Set(ids)].map((id) => findSubscription(store, tenant, id)));
    return new Set(subs.flatMap((s) => (s && subscriptionInSession(limits, s) ? [s._id] : [])));
  }

  /** The event with its deliveries to the session's subscriptions; 404 when it has none. */
  async function ownEvent({ tenant, limits, id }: Call) {
    const doc: EventDoc | null = await findEvent(store, tenant, id);
    const deliveries = doc ? await deliveriesForEvent(store, tenant, id) : [];
    const own = await ownIds(tenant, limits, [...deliveries.map((d) => d.subscriptionId), ...(doc?.filteredOut ?? [])]);
    const mine = deliveries.filter((d) => own.has(d.subscriptionId));
    if (!doc || mine.length === 0) throw notFound(`event ${id}`);
    return { doc, deliveries: mine, own };
  }

  const writable =
    (check: Check): Check =>
    (call) => {
      if (call.limits.readOnly) throw readOnlyRefusal();
      return check(call);
    };

  const routes: [method: string, path: RegExp, check: Check][] = [
    ['GET', /^\/me$/, () => Promise.resolve('pass')],
    [
      'GET',
      /^\/subscriptions$/,
      async ({ tenant, limits, res }) => {
        // A tenant has at most HERALD_MAX_SUBSCRIPTIONS; the session's are a few of them, in one page.
        const own: SubscriptionDoc[] = [];
        let cursor: string | undefined;
        do {
          const page = await listSubscriptions(store, tenant, 200, cursor);
          own.push(...page.data.filter((s) => subscriptionInSession(limits, s)));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        res.json({ data: own.map(subscriptionView), nextCursor: null });
      },
    ],
    ['GET', /^\/subscriptions\/([^/]+)(\/health)?$/, async (call) => (await ownSubscription(call), 'pass')],
    ['POST', /^\/subscriptions\/([^/]+)\/preview$/, async (call) => (await ownSubscription(call), 'pass')],
    ['POST', /^\/subscriptions\/([^/]+)\/(test|recover|rotate-secret)$/, writable(async (call) => (await ownSubscription(call), 'pass'))],
    [
      'PATCH',
      /^\/subscriptions\/([^/]+)$/,
      writable(async (call) => {
        const sub = await ownSubscription(call);
        const body = call.body as { eventTypes?: unknown; filter?: unknown; to?: unknown } | null;
        // An email subscription's recipients are the tenant's choice: a visitor who could set
        // them would send mail from the tenant's sender to anyone (a test sends it at once).
        if (body && Object.hasOwn(body, 'to') && !(sub.channel === 'email' && isDeepStrictEqual(body.to, sub.to))) {
          throw new ProblemError(403, 'Forbidden', "This portal session may not change the subscription's recipients.");
        }
        // The filter is the tenant's, as the event types are: without it, or with another, the
        // visitor's endpoint would receive the tenant's events meant for others. Sending it back
        // unchanged (as a form that posts the whole subscription would) passes.
        if (body && Object.hasOwn(body, 'filter') && !isDeepStrictEqual(body.filter ?? null, filterOf(sub) ?? null)) {
          throw new ProblemError(403, 'Forbidden', "This portal session may not change the subscription's filter.");
        }
        const wanted = body?.eventTypes;
        if (
          Array.isArray(wanted) &&
          wanted.every((t) => typeof t === 'string') &&
          !eventTypesAllowed(call.limits, sub.eventTypes, wanted)
        ) {
          throw new ProblemError(
            403,
            'Forbidden',
            call.limits.eventTypes
              ? `This portal session may give its subscriptions event types within ${call.limits.eventTypes.join(', ')} only.`
              : "This portal session may narrow the subscription's event types, not widen them.",
          );
        }
        return 'pass';
      }),
    ],
    [
      'GET',
      // Not `export`: the export router takes that path before the events router (ingestion refuses that id).
      /^\/events\/(?!export$)([^/]+)$/,
      async (call) => {
        const { doc, deliveries, own } = await ownEvent(call);
        const view: EventDetail = {
          event: eventOf(doc),
          status: eventStatusOf(currentDeliveries(deliveries)),
          deliveries: deliveries.map(deliveryView),
          filteredOut: (doc.filteredOut ?? []).filter((id) => own.has(id)),
        };
        call.res.json(view);
      },
    ],
    [
      'GET',
      /^\/events\/([^/]+)\/attempts$/,
      async (call) => {
        const { own } = await ownEvent(call);
        const attempts = await attemptsForEvent(store, call.tenant, call.id);
        call.res.json({ data: attempts.filter((a) => own.has(a.subscriptionId)).map(attemptView), nextCursor: null });
      },
    ],
    [
      'POST',
      /^\/events\/([^/]+)\/(retry|cancel)$/,
      writable(async (call) => {
        const subscriptionId = (call.body as { subscriptionId?: unknown } | null)?.subscriptionId;
        if (typeof subscriptionId !== 'string')
          throw new ProblemError(
            403,
            'Forbidden',
            'A portal session retries and cancels one delivery at a time: give its "subscriptionId".',
          );
        const { deliveries } = await ownEvent(call);
        if (!deliveries.some((d) => d.subscriptionId === subscriptionId)) throw notFound(`subscription ${subscriptionId}`);
        return 'pass';
      }),
    ],
  ];

  return async (req, res, next) => {
    const principal = principalOf(res);
    if (!principal.portal) return next();
    // Express matches paths case-insensitively and with a trailing slash, so the gate does too.
    const path = req.path.replace(/\/+$/, '');
    const route = routes.find(([method, pattern]) => method === req.method && new RegExp(pattern.source, 'i').test(path));
    if (!route) {
      throw new ProblemError(403, 'Forbidden', "A portal session reaches only its subscriptions and their events' deliveries.");
    }
    const match = new RegExp(route[1].source, 'i').exec(path)!;
    let id = '';
    try {
      id = match[1] ? decodeURIComponent(match[1]) : '';
    } catch {
      throw notFound(`"${match[1]}"`);
    }
    const outcome = await route[2]({ tenant: principal.tenant, limits: principal.portal, id, body: req.body, res });
    if (outcome === 'pass') next();
  };
}
