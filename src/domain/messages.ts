import { renderChatMessage, type ChatFormat } from './chat-formats';
import type { DigestData } from './digest';
import type { HeraldEvent } from './schemas';
import { digestTemplateView, eventTemplateView, renderEmail, type EmailTemplates, type RenderedEmail } from './templates';

/**
 * What a delivery sends, for each channel, from one event or from a digest's events: the
 * delivery activity and the preview route compose messages here and nowhere else.
 */

/** The webhook body of the public contract (docs/api.md section 4). */
export function webhookPayload(event: HeraldEvent) {
  return {
    id: event.id,
    type: event.type,
    timestamp: event.occurredAt,
    data: event.data,
    ...(event.subject && { subject: event.subject }),
    ...(event.actor && { actor: event.actor }),
    ...(event.correlationId && { correlationId: event.correlationId }),
  };
}

/** A digest's webhook body: the events it collected, as a JSON array of ordinary payloads. */
export function digestPayload(events: readonly HeraldEvent[]) {
  return events.map(webhookPayload);
}

/** A chat format's incoming-webhook message for one event (src/domain/chat-formats.ts). */
export function eventChatMessage<F extends ChatFormat>(format: F, template: string | undefined, event: HeraldEvent) {
  return renderChatMessage(format, template, eventTemplateView(event));
}

/** A chat format's incoming-webhook message listing a digest's events. */
export function digestChatMessage<F extends ChatFormat>(
  format: F,
  template: string | undefined,
  events: readonly HeraldEvent[],
  window: DigestData['window'],
) {
  return renderChatMessage(format, template, digestTemplateView(events, window));
}

export function eventEmail(templates: EmailTemplates, event: HeraldEvent): RenderedEmail {
  return renderEmail(templates, eventTemplateView(event));
}

export function digestEmail(templates: EmailTemplates, events: readonly HeraldEvent[], window: DigestData['window']): RenderedEmail {
  return renderEmail(templates, digestTemplateView(events, window));
}
