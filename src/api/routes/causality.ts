import type { Client, Connection } from '@temporalio/client';
import { Router } from 'express';
import { subjectEventsQuerySchema, treeQuerySchema, type HeraldEvent } from '../../domain/schemas';
import { currentDeliveries, type DeliveryStatus, type EventStatus } from '../../domain/status';
import type { EventDoc, Store } from '../../store';
import { deliveriesForEvent } from '../../store/deliveries';
import { childrenOf, eventOf, findEvent, listEvents, liveEventStatus } from '../../store/events';
import { acceptedEvent } from '../../temporal/accepted-event';
import { withinLimits } from '../../domain/key-limits';
import { principalOf, requireScope } from '../auth';
import { limitsOf, visibleTo } from '../key-limits';
import { callTemporal } from '../temporal-call';
import { checkIdParam, notFound, parseOrThrow } from '../problem';

/** Events in a tree hold no more than this many nodes, so one request stays bounded. */
const MAX_TREE_NODES = 1000;

/** An event as a tree shows it: what happened, to what, by whom, and its status. */
function summaryOf(event: HeraldEvent, status: EventStatus) {
  return {
    id: event.id,
    type: event.type,
    ...(event.subject && { subject: event.subject }),
    ...(event.actor && { actor: event.actor }),
    ...(event.parentId && { parentId: event.parentId }),
    ...(event.correlationId && { correlationId: event.correlationId }),
    occurredAt: event.occurredAt,
    status,
  };
}

const summaryOfDoc = (doc: EventDoc) => summaryOf(eventOf(doc), doc.status);

interface TreeNode {
  event: ReturnType<typeof summaryOf>;
  children: TreeNode[];
}

/**
 * The audit read as causality and as per-resource history: `GET /v1/events/{id}/tree` and
 * `GET /v1/subjects/{type}/{id}/events`.
 */
export function causalityRouter(deps: { store: Store; temporal: Client; connection: Connection }) {
  const events = Router();
  events.param('id', checkIdParam('event'));

  /** The event's ancestors (root first) and its descendants, each `depth` levels at most. */
  events.get('/:id/tree', requireScope('events:read'), async (req, res) => {
    const { tenant } = principalOf(res);
    const { depth } = parseOrThrow(treeQuerySchema, req.query);
    const id = String(req.params.id);
    const doc = await findEvent(deps.store, tenant, id);
    // Accepted a moment ago and not yet recorded: the event its workflow was started with.
    const unrecorded = doc ? null : await callTemporal(deps.connection, () => acceptedEvent(deps.temporal, tenant, id));
    // The event itself with its live status, as `GET /v1/events/{id}` answers it (the stored one
    // trails its deliveries by a moment); the events around it with their stored status.
    const summary = visibleTo(
      res,
      doc
        ? summaryOf(eventOf(doc), liveEventStatus(doc, await deliveriesForEvent(deps.store, tenant, id)))
        : unrecorded
          ? summaryOf(unrecorded, 'delivering')
          : null,
      id,
    );
    const limits = limitsOf(res);

    const ancestors: EventDoc[] = [];
    const seen = new Set([summary.id]);
    for (let parentId = summary.parentId; parentId && ancestors.length < depth && !seen.has(parentId);) {
      seen.add(parentId);
      const parent = await findEvent(deps.store, tenant, parentId);
      // Never sent here, or removed by retention; or, for a limited key, outside its limits:
      // the ancestors above one it may not see are not shown either.
      if (!parent || !withinLimits(limits, parent)) break;
      ancestors.unshift(parent);
      parentId = parent.parentId;
    }

    const root: TreeNode = { event: summary, children: [] };
    let level: TreeNode[] = [root];
    let nodes = 1;
    let truncated = false;
    for (let d = 0; d < depth && level.length > 0; d++) {
      const byId = new Map(level.map((n) => [n.event.id, n]));
      // A limited key's tree holds the descendants it reaches through events within its limits.
      const children = await childrenOf(deps.store, tenant, [...byId.keys()], MAX_TREE_NODES - nodes + 1, limits);
      const next: TreeNode[] = [];
      for (const child of children) {
        if (seen.has(child.id)) continue; // a cycle in parentIds
        if (nodes >= MAX_TREE_NODES) {
          truncated = true;
          break;
        }
        seen.add(child.id);
        const node = { event: summaryOfDoc(child), children: [] };
        byId.get(child.parentId!)?.children.push(node);
        next.push(node);
        nodes++;
      }
      level = next;
    }
    res.json({ ancestors: ancestors.map(summaryOfDoc), event: root.event, descendants: root.children, truncated });
  });

  const subjects = Router();
  // Subject types and ids are free text (1-256 characters, as at ingestion) but never control characters.
  const subjectPart = (kind: string) => (_req: unknown, _res: unknown, next: (err?: unknown) => void, value: string) =>
    // eslint-disable-next-line no-control-regex -- refusing control characters is the point
    next(/^[^\u0000-\u001f]{1,256}$/.test(value) ? undefined : notFound(`subject ${kind} ${JSON.stringify(value).slice(0, 80)}`));
  subjects.param('type', subjectPart('type'));
  subjects.param('id', subjectPart('id'));
  /** Everything that happened to one resource, newest first, with each event's delivery outcomes. */
  subjects.get('/:type/:id/events', requireScope('events:read'), async (req, res) => {
    const { tenant } = principalOf(res);
    const { limit, cursor } = parseOrThrow(subjectEventsQuerySchema, req.query);
    const page = await listEvents(
      deps.store,
      tenant,
      { subjectType: String(req.params.type), subjectId: String(req.params.id), limit, ...(cursor && { cursor }) },
      limitsOf(res),
    );
    const data = await Promise.all(
      page.data.map(async (doc) => {
        const deliveries = currentDeliveries(await deliveriesForEvent(deps.store, tenant, doc.id));
        const counts: Partial<Record<DeliveryStatus, number>> = {};
        for (const d of deliveries) counts[d.status] = (counts[d.status] ?? 0) + 1;
        // Live, as `GET /v1/events/{id}` answers it; the stored status trails it by a moment.
        const status = liveEventStatus(doc, deliveries);
        return { ...eventOf(doc), status, deliveries: { total: deliveries.length, ...counts } };
      }),
    );
    res.json({ data, nextCursor: page.nextCursor });
  });

  return { events, subjects };
}
