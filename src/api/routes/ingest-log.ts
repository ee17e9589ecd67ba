import { Router } from 'express';
import { ingestLogQuerySchema } from '../../domain/schemas';
import type { Store } from '../../store';
import { listIngestLog } from '../../store/ingest-log';
import { principalOf, requireScope } from '../auth';
import { parseOrThrow } from '../problem';
import { ingestLogView } from '../views';

/** `GET /v1/ingest-log`: the tenant's refused ingestion requests, newest first. */
export function ingestLogRouter(deps: { store: Store }): Router {
  const router = Router();
  router.get('/', requireScope('events:read'), async (req, res) => {
    const query = parseOrThrow(ingestLogQuerySchema, req.query);
    const page = await listIngestLog(deps.store, principalOf(res).tenant, query);
    res.json({ data: page.data.map(ingestLogView), nextCursor: page.nextCursor });
  });
  return router;
}
