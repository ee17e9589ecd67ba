import { digestChatMessage, digestPayload, eventChatMessage, webhookPayload } from '../domain/messages';
import { classifyAttempt } from '../domain/outcome';
import { signatureHeader } from '../domain/signing';
import { classifyUrlHost } from '../domain/targets';
import { isSensitiveHeader, openHeaders, redactHeaders, REDACTED, sealHeaders } from '../security/sensitive';
import type { WebhookTarget } from '../store';
import { signingSecrets } from '../store/subscriptions';
import { VERSION } from '../version';
import type { Channel, MessageContent } from './channel';
import { postWebhook } from './http-sender';

/**
 * Webhooks: a signed JSON POST (Standard Webhooks; docs/api.md section 4) whose body is
 * Herald's payload or, with a chat `format`, that service's incoming-webhook message.
 */

function body(sub: WebhookTarget, content: MessageContent): unknown {
  const format = sub.format ?? 'standard';
  const { collected } = content;
  if (format === 'standard') return collected ? digestPayload(collected.events) : webhookPayload(content.event);
  return collected
    ? digestChatMessage(format, sub.template, collected.events, collected.window)
    : eventChatMessage(format, sub.template, content.event);
}

export const webhookChannel: Channel<WebhookTarget> = {
  targetOf(input, box) {
    return {
      channel: 'webhook',
      url: input.url!,
      ...(input.headers !== undefined && { headers: sealHeaders(input.headers, box) }),
      ...(input.format !== undefined && { format: input.format }),
      ...(input.template !== undefined && { template: input.template }),
    };
  },

  // A literal address in a refused range is known bad already; names are checked at connect time.
  refusal(fields, allowPrivateTargets) {
    if (typeof fields.url !== 'string' || allowPrivateTargets) return null;
    const verdict = classifyUrlHost(new URL(fields.url));
    return verdict.allowed ? null : { path: 'url', message: `target refused: ${verdict.reason}` };
  },

  view(target) {
    return {
      url: target.url,
      ...(target.headers !== undefined && { headers: redactHeaders(target.headers) }),
      format: target.format ?? 'standard',
      ...(target.template !== undefined && { template: target.template }),
    };
  },

  preview(sub, content) {
    return { body: body(sub, content) };
  },

  prepare(sub, { delivery, content, startedAt, signal, transports }) {
    const timestamp = Math.floor(startedAt.getTime() / 1000);
    const text = JSON.stringify(body(sub, content));
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
