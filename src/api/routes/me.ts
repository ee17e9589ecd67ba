import { Router } from 'express';
import type { z } from 'zod';
import type { meSchema } from '../../domain/schemas';
import { principalOf, type Principal } from '../auth';

export interface MeDeps {
  temporalUiUrl: string;
  temporalNamespace: string;
}

/** `GET /v1/me`: the calling key's tenant, scopes, expiry and limits, so clients hide what it may not do. */
export function meRouter(deps: MeDeps): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    const { keyId, tenant, scopes, admin, portal } = principalOf(res);
    const me: z.infer<typeof meSchema> = {
      keyId,
      tenant,
      scopes: [...scopes],
      admin,
      ...keyTermsOf(principalOf(res)),
      temporal: { uiUrl: deps.temporalUiUrl, namespace: deps.temporalNamespace },
      ...(portal && { portal: { ...portal, expiresAt: portal.expiresAt.toISOString() } }),
    };
    res.json(me);
  });
  return router;
}

/** The key's expiry and limits, as `GET /v1/api-keys` shows them. */
function keyTermsOf({ expiresAt, limits }: Principal): Pick<z.infer<typeof meSchema>, 'expiresAt' | 'subjects' | 'eventTypes'> {
  return {
    ...(expiresAt && { expiresAt: expiresAt.toISOString() }),
    ...(limits?.subjects && { subjects: limits.subjects }),
    ...(limits?.eventTypes && { eventTypes: limits.eventTypes }),
  };
}
