import { Router } from 'express';
import { ingestLogQuerySchema } from '../../domain/schemas';
import type { Store } from '../../store';
import { InvalidCursorError } from '../../store/events';
import { ingestLogView, listIngestLog } from '../../store/ingest-log';
import { principalOf, requireScope } from '../auth';
import { parseOrThrow, validationProblem } from '../problem';

/** `GET /v1/ingest-log`: the tenant's refused ingestion requests, newest first. */
export function ingestLogRouter(deps: { store: Store }): Router {
  const router = Router();
  router.get('/', requireScope('events:read'), async (req, res) => {
    const query = parseOrThrow(ingestLogQuerySchema, req.query);
    try {
      const page = await listIngestLog(deps.store, principalOf(res).tenant, query);
      res.json({ data: page.data.map(ingestLogView), nextCursor: page.nextCursor });
    } catch (err) {
      if (err instanceof InvalidCursorError) throw validationProblem([{ path: 'cursor', message: err.message }]);
      throw err;
    }
  });
  return router;
}
