import { createAfterAnswer } from '../../src/api/after-answer';
import { createApp, type AppDeps } from '../../src/api/app';
import { openApiDocument } from '../../src/api/openapi';

interface RouterLike {
  stack: { rawPath?: string | string[]; route?: { path: string | string[]; methods: Record<string, boolean> }; handle: unknown }[];
}

/**
 * Every route an Express router serves, as `METHOD /path` with path parameters written as
 * OpenAPI writes them, mounted routers included (`rawPath` is the path a layer was mounted at).
 */
function routesOf(router: RouterLike, mountPath = ''): string[] {
  return router.stack.flatMap((layer) => {
    const join = (path: string) => (path === '/' && mountPath ? mountPath : `${mountPath}${path}`);
    if (layer.route) {
      const { path, methods } = layer.route;
      return [path].flat().flatMap((p) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${join(p).replace(/:(\w+)/g, '{$1}')}`));
    }
    const nested = layer.handle as Partial<RouterLike>;
    return Array.isArray(nested.stack) && typeof layer.rawPath === 'string' ? routesOf(nested as RouterLike, join(layer.rawPath)) : [];
  });
}

// The routers keep their dependencies for later requests; building them needs only these.
const deps = {
  adminKey: 'admin-key-of-the-route-table-test',
  ingestRate: 100,
  maxSubscriptionsPerTenant: 100,
  portalDir: 'dist/portal',
  registry: { registerMetric: () => undefined },
  afterAnswer: createAfterAnswer(),
} as unknown as AppDeps;

test('the OpenAPI document lists every route the API serves, and no other', () => {
  const served = new Set(routesOf(createApp(deps).router as unknown as RouterLike));
  // The portal's page is served under its file name too; the document names it once, as `/portal/`.
  expect(served.delete('GET /portal/index.html')).toBe(true);
  const documented = new Set(
    Object.entries(openApiDocument().paths).flatMap(([path, item]) =>
      // Express matches `/portal` and `/portal/` alike; the document names the page `/portal/`.
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path.replace(/(.)\/$/, '$1')}`),
    ),
  );
  expect([...served].filter((r) => !documented.has(r)).sort()).toEqual([]);
  expect([...documented].filter((r) => !served.has(r)).sort()).toEqual([]);
  expect(served.size).toBeGreaterThan(30);
});

test('the document declares the statuses routes answer beyond the common problems: 503 where an unrecorded event is read from Temporal, 409 at the subscription limit', () => {
  const { paths } = openApiDocument() as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
  for (const path of ['/v1/events/{id}', '/v1/events/{id}/attempts', '/v1/events/{id}/tree']) {
    expect({ path, statuses: Object.keys(paths[path].get.responses) }).toEqual({ path, statuses: expect.arrayContaining(['200', '503']) });
  }
  expect(Object.keys(paths['/v1/subscriptions'].post.responses)).toEqual(expect.arrayContaining(['201', '409']));
});
