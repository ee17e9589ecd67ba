/**
 * The portal's one way to the API: `/v1` with the signed-in key as a Bearer token, or, with no
 * key, as the portal session whose HttpOnly cookie the browser holds (the page never sees it).
 */

export type * from './types';

const KEY_ITEM = 'herald.apiKey';

/** The key lives in this tab's sessionStorage only: closing the tab signs out. */
export const session = {
  key: (): string | null => sessionStorage.getItem(KEY_ITEM),
  save: (key: string) => sessionStorage.setItem(KEY_ITEM, key),
  clear: () => sessionStorage.removeItem(KEY_ITEM),
};

/** A problem+json answer, with the API's own words. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string | undefined,
    readonly errors: { path: string; message: string }[] = [],
  ) {
    super(detail ?? title);
  }
}

/** Told when the key stops working (revoked, unknown), so the app can sign out. */
let onUnauthorized: (reason: string) => void = () => undefined;
export function whenUnauthorized(handler: (reason: string) => void): void {
  onUnauthorized = handler;
}

export async function call<T>(method: string, path: string, body?: unknown, key = session.key()): Promise<T> {
  const res = await fetch(`/v1${path}`, {
    method,
    headers: {
      // The session's header proves the request comes from the portal's own page (see PORTAL_HEADER).
      ...(key === null ? { 'x-herald-portal': 'session' } : { authorization: `Bearer ${key}` }),
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const parsed: unknown = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const p = (parsed ?? {}) as { title?: string; detail?: string; errors?: { path: string; message: string }[] };
    const error = new ApiError(res.status, p.title ?? res.statusText, p.detail, p.errors);
    // Not for the first look without a key (no cookie either): that is a visitor yet to sign in.
    if (res.status === 401 && key === session.key() && !(key === null && path === '/me')) onUnauthorized(error.message);
    throw error;
  }
  return parsed as T;
}
