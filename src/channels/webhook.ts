import { digestPayload, webhookPayload } from '../domain/messages';
import { classifyAttempt } from '../domain/outcome';
import { signatureHeader } from '../domain/signing';
import { classifyUrlHost } from '../domain/targets';
import { isSensitiveHeader, openHeaders, redactHeaders, REDACTED, sealHeaders } from '../security/sensitive';
import type { WebhookTarget } from '../store';
import { signingSecrets } from '../store/subscriptions';
import { VERSION } from '../version';
import type { Channel, MessageContent } from './channel';
import { postWebhook } from './http-sender';

/** Webhooks: a signed JSON POST (Standard Webhooks; docs/api.md section 4). */

const body = (content: MessageContent) => (content.collected ? digestPayload(content.collected.events) : webhookPayload(content.event));

export const webhookChannel: Channel<WebhookTarget> = {
  targetOf(input, box) {
    return { channel: 'webhook', url: input.url!, ...(input.headers !== undefined && { headers: sealHeaders(input.headers, box) }) };
  },

  // A literal address in a refused range is known bad already; names are checked at connect time.
  refusal(fields, allowPrivateTargets) {
    if (typeof fields.url !== 'string' || allowPrivateTargets) return null;
    const verdict = classifyUrlHost(new URL(fields.url));
    return verdict.allowed ? null : { path: 'url', message: `target refused: ${verdict.reason}` };
  },

  view(target) {
    return { url: target.url, ...(target.headers !== undefined && { headers: redactHeaders(target.headers) }) };
  },

  preview(_sub, content) {
    return { body: body(content) };
  },

  prepare(sub, { delivery, content, startedAt, signal, transports }) {
    const timestamp = Math.floor(startedAt.getTime() / 1000);
    const text = JSON.stringify(body(content));
    const headers: Record<string, string> = {
      ...openHeaders(sub.headers ?? {}, transports.secretBox),
      'content-type': 'application/json',
      'user-agent': `Herald/${VERSION}`,
      'webhook-id': delivery.messageId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(signingSecrets(sub, startedAt, transports.secretBox), delivery.messageId, timestamp, text),
    };
    return {
      request: { url: sub.url, headers: auditHeaders(headers) },
      async send() {
        const response = await postWebhook(transports.dispatcher, transports.allowPrivateTargets, {
          url: sub.url,
          headers,
          body: text,
          timeoutMs: sub.timeoutMs,
          signal,
        });
        return {
          outcome: classifyAttempt(response.result, Date.now()),
          status: response.status,
          response: response.status === null ? null : { status: response.status, body: response.body ?? '' },
        };
      },
    };
  },
};

/** Custom header values that look like credentials are kept out of the attempt audit; signatures are shown. */
function auditHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, name.startsWith('webhook-') || !isSensitiveHeader(name) ? value : REDACTED]),
  );
}
