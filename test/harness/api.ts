import { verify } from '../../src/domain/signing';
import type { ReceivedRequest, Receiver } from './receiver';
import { eventually, type TestStack } from './stack';

/** The calls most tests make through the public HTTP API, as a user would. */

export async function subscribe(
  stack: TestStack,
  receiver: Receiver,
  path: string,
  eventTypes: string[],
  extra: Record<string, unknown> = {},
) {
  const res = await stack.request('POST', '/v1/subscriptions', {
    channel: 'webhook',
    url: `${receiver.url}${path}`,
    eventTypes,
    ...extra,
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string };
}

export async function send(stack: TestStack, event: Record<string, unknown>) {
  const res = await stack.request('POST', '/v1/events', event);
  expect(res.status).toBe(202);
  return res.body as { id: string; workflowId: string; duplicate: boolean };
}

/** Polls `GET /v1/events/{id}` until `done` holds for its answer. */
export function eventWhen(
  stack: TestStack,
  id: string,
  done: (view: any) => boolean,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<any> {
  return eventually(
    async () => {
      const res = await stack.request('GET', `/v1/events/${id}`);
      return res.status === 200 && done(res.body) ? res.body : undefined;
    },
    timeoutMs,
    `event ${id}: ${what}`,
  );
}

export function finalEvent(stack: TestStack, id: string, timeoutMs = 30_000): Promise<any> {
  return eventWhen(stack, id, (v) => v.status !== 'delivering', timeoutMs, 'to finish');
}

/** True when the request carries a valid Standard Webhooks signature made with `secret`. */
export function signedWith(secret: string, req: ReceivedRequest): boolean {
  try {
    verify(secret, req.body, {
      id: req.headers['webhook-id'] as string,
      timestamp: req.headers['webhook-timestamp'] as string,
      signature: req.headers['webhook-signature'] as string,
    });
    return true;
  } catch {
    return false;
  }
}

/** An API key of this tenant with these scopes, made with the admin key. */
export async function createKey(stack: TestStack, tenant: string, scopes: string[]) {
  const res = await stack.request('POST', '/v1/api-keys', { name: `${tenant} ${scopes.join(' ')}`, tenant, scopes });
  expect(res.status).toBe(201);
  return res.body as { id: string; key: string; prefix: string; tenant: string };
}
