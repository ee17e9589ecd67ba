import { digestEmail, eventEmail } from '../domain/messages';
import { classifySmtpReply } from '../domain/outcome';
import type { EmailTarget } from '../store';
import type { Channel, MessageContent } from './channel';
import { RESPONSE_BODY_LIMIT } from './http-sender';

/** Email: Mustache templates rendered per event or per digest, sent through the worker's SMTP relay. */

function render(sub: EmailTarget, content: MessageContent) {
  const templates = { subject: sub.subject, body: sub.body, html: sub.html };
  return content.collected
    ? digestEmail(templates, content.collected.events, content.collected.window)
    : eventEmail(templates, content.event);
}

export const emailChannel: Channel<EmailTarget> = {
  targetOf(input) {
    return {
      channel: 'email',
      to: input.to!,
      ...(input.subject !== undefined && { subject: input.subject }),
      ...(input.body !== undefined && { body: input.body }),
      ...(input.html !== undefined && { html: input.html }),
    };
  },

  // Recipients are addresses at a relay the operator chose; nothing is dialled from them.
  refusal: () => null,

  view(target) {
    return {
      to: target.to,
      ...(target.subject !== undefined && { subject: target.subject }),
      ...(target.body !== undefined && { body: target.body }),
      ...(target.html !== undefined && { html: target.html }),
    };
  },

  preview(sub, content) {
    return render(sub, content);
  },

  prepare(sub, { delivery, content, transports }) {
    const { mailer } = transports;
    const rendered = render(sub, content);
    // Derived from the delivery's message id: every attempt of a delivery carries the same one.
    const messageId = `${delivery.messageId}@${mailer?.domain ?? 'herald.invalid'}`;
    return {
      request: {
        url: mailer?.endpoint ?? 'smtp:',
        headers: { to: sub.to.join(', '), subject: rendered.subject, 'message-id': `<${messageId}>` },
      },
      async send() {
        if (!mailer)
          return { outcome: { kind: 'retryable', reason: 'HERALD_SMTP_URL is not set in the worker' }, status: null, response: null };
        const reply = await mailer.send({
          ...rendered,
          to: sub.to,
          messageId,
          headers: { 'Auto-Submitted': 'auto-generated', 'X-Herald-Event-Id': content.event.id, 'X-Herald-Event-Type': content.event.type },
        });
        const text = reply.rejected.length ? `${reply.message} (rejected: ${reply.rejected.join(', ')})` : reply.message;
        return {
          outcome: classifySmtpReply(reply),
          status: reply.code,
          response: reply.code === null ? null : { status: reply.code, body: text.slice(0, RESPONSE_BODY_LIMIT) },
        };
      },
    };
  },
};
