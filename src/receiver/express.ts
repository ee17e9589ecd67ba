import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { WebhookVerificationError } from '../domain/signing';
import { rejectionStatus, usableSecrets, verifyWebhook, type VerifyWebhookOptions, type WebhookBody } from './verify';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express's own augmentation point for fields on Request
  namespace Express {
    interface Request {
      /** The verified webhook body, set by `webhookMiddleware`. */
      webhook?: WebhookBody;
    }
  }
}

export interface WebhookMiddlewareOptions extends VerifyWebhookOptions {
  /** Largest body read, in bytes or as "256kb" (default 1mb). */
  limit?: number | string;
}

/**
 * Express middleware for a webhook route: reads the raw body, verifies it with one of
 * `secrets`, and puts the parsed body on `req.webhook`; answers 400 or 401 (problem+json)
 * when verification fails. Mount it before any JSON body parser on that route, since the
 * signature covers the bytes as sent.
 */
export function webhookMiddleware(secrets: string | readonly string[], options: WebhookMiddlewareOptions = {}): RequestHandler {
  usableSecrets(secrets); // a blank secret fails at startup, not at the first delivery
  const readRaw = express.raw({ type: () => true, limit: options.limit ?? '1mb' });
  const verifyRequest = (req: Request, res: Response, next: NextFunction) => {
    if (!Buffer.isBuffer(req.body) && typeof req.body !== 'string') {
      next(new Error('webhookMiddleware needs the raw body: mount it before express.json() on this route'));
      return;
    }
    try {
      req.webhook = verifyWebhook(secrets, req.body, req.headers, options);
      next();
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) {
        next(err);
        return;
      }
      const status = rejectionStatus(err);
      res
        .status(status)
        .type('application/problem+json')
        .send(
          JSON.stringify({
            type: 'about:blank',
            title: status === 400 ? 'Bad Request' : 'Unauthorized',
            status,
            detail: `webhook verification failed: ${err.message}`,
          }),
        );
    }
  };
  return (req, res, next) => {
    // Someone upstream (express.raw, express.text) may have read the body already.
    if (req.body !== undefined) return verifyRequest(req, res, next);
    readRaw(req, res, (err?: unknown) => {
      if (err) return next(err);
      // A request with neither Content-Length nor Transfer-Encoding has no body, which the reader leaves unset.
      req.body ??= Buffer.alloc(0);
      verifyRequest(req, res, next);
    });
  };
}
