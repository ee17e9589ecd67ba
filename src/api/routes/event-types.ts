import { Router } from 'express';
import { eventTypePutSchema, eventTypeSchema, listQuerySchema } from '../../domain/schemas';
import type { Store } from '../../store';
import { deleteEventType, findEventType, listEventTypes, putEventType } from '../../store/event-types';
import { principalOf, requireScope } from '../auth';
import { compileSchema } from '../event-type-schemas';
import { registryWritesForLimitedKeys } from '../key-limits';
import { notFound, parseOrThrow, validationProblem } from '../problem';
import { eventTypeView } from '../views';

/** Who may read the registry: producers, subscribers and auditors alike. */
export const registryReaders = requireScope('events:read', 'subscriptions:read', 'events:write');

/**
 * The event-type registry: producers (`events:write`) describe their types and may give a
 * JSON Schema that ingestion then holds `data` to; subscribers (`subscriptions:read`) and
 * auditors (`events:read`) read it.
 */
export function eventTypesRouter(deps: { store: Store }): Router {
  const router = Router();
  router.param('type', (_req, _res, next, value: string) =>
    next(eventTypeSchema.safeParse(value).success ? undefined : notFound(`event type ${JSON.stringify(value).slice(0, 80)}`)),
  );
  const readers = registryReaders;

  router.put('/:type', requireScope('events:write'), registryWritesForLimitedKeys, async (req, res) => {
    const { tenant } = principalOf(res);
    const input = parseOrThrow(eventTypePutSchema, req.body);
    if (input.schema) {
      let validate: ReturnType<typeof compileSchema>;
      try {
        validate = compileSchema(input.schema);
      } catch (err) {
        throw validationProblem([{ path: 'schema', message: `is not a valid JSON Schema: ${(err as Error).message}` }]);
      }
      try {
        // A schema that refers to itself with nothing in between ({"$ref": "#"}) compiles, and
        // then recurses on any data: refused here rather than failing every event of the type.
        validate({});
      } catch (err) {
        throw validationProblem([{ path: 'schema', message: `cannot be applied to data: ${(err as Error).message}` }]);
      }
    }
    const { doc, created } = await putEventType(deps.store, tenant, String(req.params.type), input, new Date());
    res.status(created ? 201 : 200).json(eventTypeView(doc));
  });

  router.get('/', readers, async (req, res) => {
    const { tenant } = principalOf(res);
    const { limit, cursor } = parseOrThrow(listQuerySchema, req.query);
    const page = await listEventTypes(deps.store, tenant, limit, cursor);
    res.json({ data: page.data.map(eventTypeView), nextCursor: page.nextCursor });
  });

  router.get('/:type', readers, async (req, res) => {
    const doc = await findEventType(deps.store, principalOf(res).tenant, String(req.params.type));
    if (!doc) throw notFound(`event type ${String(req.params.type)}`);
    res.json(eventTypeView(doc));
  });

  router.delete('/:type', requireScope('events:write'), registryWritesForLimitedKeys, async (req, res) => {
    if (!(await deleteEventType(deps.store, principalOf(res).tenant, String(req.params.type))))
      throw notFound(`event type ${String(req.params.type)}`);
    res.status(204).end();
  });

  return router;
}
