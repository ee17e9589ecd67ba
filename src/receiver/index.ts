/** The receiver side, `herald/receiver`: verify Standard Webhooks deliveries from Herald (or any sender). */
export { rejectionStatus, verifyWebhook, type VerifyWebhookOptions, type WebhookBody, type WebhookHeaders } from './verify';
export { webhookMiddleware, type WebhookMiddlewareOptions } from './express';
export { WebhookVerificationError, type VerificationFailure } from '../domain/signing';
export type { WebhookPayload } from '../domain/schemas';
