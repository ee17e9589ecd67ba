import { Router, type Response } from 'express';
import { apiKeyCreateSchema, listQuerySchema } from '../../domain/schemas';
import { newApiKey } from '../../security/api-keys';
import type { ApiKeyDoc, Store } from '../../store';
import { insertApiKey, listApiKeys, raiseKeysVersion, revokeApiKey } from '../../store/api-keys';
import { apiKeyChangeEvent } from '../change-events';
import { announce, type AnnounceDeps } from '../announce';
import { principalOf, requireAdmin } from '../auth';
import { checkIdParam, notFound, parseOrThrow } from '../problem';
import { apiKeyView } from '../views';

export interface ApiKeyDeps extends AnnounceDeps {
  store: Store;
}

/**
 * API keys, for the admin key only: one tenant and a set of scopes each, optionally an expiry
 * and resource limits; shown once, stored hashed.
 */
export function apiKeysRouter(deps: ApiKeyDeps): Router {
  const router = Router();
  router.param('id', checkIdParam('API key'));
  router.use(requireAdmin);

  const announceChange = (change: 'created' | 'revoked', doc: ApiKeyDoc, res: Response) =>
    announce(deps, doc.tenant, apiKeyChangeEvent(change, doc, `key:${principalOf(res).keyId}`, new Date()));

  router.post('/', async (req, res) => {
    const input = parseOrThrow(apiKeyCreateSchema, req.body);
    const { id, key, prefix, hash } = newApiKey();
    const doc: ApiKeyDoc = {
      _id: id,
      name: input.name,
      tenant: input.tenant,
      scopes: input.scopes,
      prefix,
      hash,
      createdAt: new Date(),
      ...(input.expiresAt && { expiresAt: new Date(input.expiresAt) }),
      ...(input.subjects && { subjects: input.subjects }),
      ...(input.eventTypes && { eventTypes: input.eventTypes }),
    };
    await insertApiKey(deps.store, doc);
    await announceChange('created', doc, res);
    res
      .status(201)
      .location(`/v1/api-keys/${id}`)
      .json({ ...apiKeyView(doc), key });
  });

  router.get('/', async (req, res) => {
    const query = parseOrThrow(listQuerySchema, req.query);
    const page = await listApiKeys(deps.store, query.limit, query.cursor);
    res.json({ data: page.data.map(apiKeyView), nextCursor: page.nextCursor });
  });

  router.delete('/:id', async (req, res) => {
    const now = new Date();
    const doc = await revokeApiKey(deps.store, String(req.params.id), now);
    if (!doc) throw notFound(`API key ${req.params.id}`);
    try {
      await raiseKeysVersion(deps.store, doc.tenant);
    } finally {
      // Announced by the DELETE that revoked it, also when its raise failed (500): a repeated
      // DELETE raises the counter again but announces nothing.
      if (doc.revokedAt?.getTime() === now.getTime()) await announceChange('revoked', doc, res);
    }
    res.status(204).end();
  });

  return router;
}
