import { Router } from 'express';
import { ingestLogQuerySchema } from '../../domain/schemas';
import type { Store } from '../../store';
import { listIngestLog } from '../../store/ingest-log';
import { isLimited } from '../../domain/key-limits';
import { principalOf, requireScope } from '../auth';
import { parseOrThrow } from '../problem';
import { ingestLogView } from '../views';

/** `GET /v1/ingest-log`: the tenant's refused ingestion requests, newest first. */
export function ingestLogRouter(deps: { store: Store }): Router {
  const router = Router();
  router.get('/', requireScope('events:read'), async (req, res) => {
    const query = parseOrThrow(ingestLogQuerySchema, req.query);
    const { tenant, keyId, limits } = principalOf(res);
    // A limited key sees its own refusals only: a refused body is not an event its limits could be read from.
    const page = await listIngestLog(deps.store, tenant, query, isLimited(limits) ? keyId : undefined);
    res.json({ data: page.data.map(ingestLogView), nextCursor: page.nextCursor });
  });
  return router;
}
