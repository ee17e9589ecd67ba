import { request, type Agent } from 'undici';
// Herald signs every delivery; the floor pays the same HMAC, with the same code.
import { sign } from '../../src/domain/signing';
import type { FloorEvent } from './workflows';

export interface FloorDelivery {
  url: string;
  timeoutMs: number;
  messageId: string;
  event: FloorEvent;
}

/** The floor's one activity, wired by the floor worker: a keep-alive pool and the signing secret. */
export function createFloorActivities(deps: { dispatcher: Agent; secret: string }) {
  return {
    /** POSTs one signed delivery; anything but a 2xx throws, so Temporal retries it. */
    async postWebhook({ url, timeoutMs, messageId, event }: FloorDelivery): Promise<void> {
      const body = JSON.stringify(event);
      const timestamp = Math.floor(Date.now() / 1000);
      const res = await request(url, {
        method: 'POST',
        dispatcher: deps.dispatcher,
        headers: {
          'content-type': 'application/json',
          'webhook-id': messageId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': sign(deps.secret, messageId, timestamp, body),
        },
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      await res.body.dump();
      if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`receiver answered ${res.statusCode}`);
    },
  };
}
