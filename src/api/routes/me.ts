import { Router } from 'express';
import type { z } from 'zod';
import type { meSchema } from '../../domain/schemas';
import { principalOf } from '../auth';

export interface MeDeps {
  temporalUiUrl: string;
  temporalNamespace: string;
}

/** `GET /v1/me`: the calling key's tenant, scopes, expiry and limits, so clients hide what it may not do. */
export function meRouter(deps: MeDeps): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    const { keyId, tenant, scopes, admin, expiresAt, limits } = principalOf(res);
    const me: z.infer<typeof meSchema> = {
      keyId,
      tenant,
      scopes: [...scopes],
      admin,
      ...(expiresAt && { expiresAt: expiresAt.toISOString() }),
      ...(limits?.subjects && { subjects: limits.subjects }),
      ...(limits?.eventTypes && { eventTypes: limits.eventTypes }),
      temporal: { uiUrl: deps.temporalUiUrl, namespace: deps.temporalNamespace },
    };
    res.json(me);
  });
  return router;
}
