import type { ErrorRequestHandler, Response } from 'express';
import { z } from 'zod';
import type { Logger } from '../logger';
import { InvalidCursorError } from '../store/paging';

/** RFC 9457 problem details: every error the API answers has this shape. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: { path: string; message: string }[];
}

export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: Problem['errors'],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }
}

const TYPE_BASE = 'https://herald.dev/problems/';

export function problemBody(status: number, title: string, detail?: string, errors?: Problem['errors']): Problem {
  const slug = title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return { type: `${TYPE_BASE}${slug}`, title, status, ...(detail && { detail }), ...(errors && { errors }) };
}

export function sendProblem(res: Response, problem: Problem, headers: Record<string, string> = {}): void {
  res.status(problem.status).set(headers).type('application/problem+json').send(JSON.stringify(problem));
}

/** Zod issues as `{path, message}` with dotted paths, optionally under a prefix such as `events.3`. */
export function issuesOf(error: z.ZodError, prefix: (string | number)[] = []): { path: string; message: string }[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path].map(String).join('.');
    const unknown = issue.code === 'unrecognized_keys' ? issue.keys : null;
    return unknown
      ? {
          path: [path, ...unknown].filter(Boolean).join('.'),
          message: `unknown field${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`,
        }
      : { path, message: issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message };
  });
}

export function validationProblem(errors: { path: string; message: string }[]): ProblemError {
  return new ProblemError(400, 'Invalid request', 'The request did not pass validation; see errors.', errors);
}

/** Parses with a zod schema or throws a 400 problem listing every issue with its path. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, prefix: (string | number)[] = []): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationProblem(issuesOf(result.error, prefix));
  return result.data;
}

export const notFound = (what: string) => new ProblemError(404, 'Not found', `${what} does not exist`);

/** Every id Herald issues or accepts has this shape; anything else names nothing, and never reaches the store. */
const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** `router.param('id', …)`: a path id of another shape answers 404 at once. */
export function checkIdParam(kind: string) {
  return (_req: unknown, _res: unknown, next: (err?: unknown) => void, id: string) =>
    next(ID_PATTERN.test(id) ? undefined : notFound(`${kind} ${JSON.stringify(id).slice(0, 140)}`));
}

/** The last middleware: maps body-parser, validation, cursor and unexpected errors to problem+json. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (err instanceof InvalidCursorError) err = validationProblem([{ path: 'cursor', message: err.message }]);
    if (err instanceof ProblemError) {
      return sendProblem(res, problemBody(err.status, err.title, err.detail, err.errors), err.headers);
    }
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') {
      return sendProblem(res, problemBody(413, 'Payload too large', 'Request bodies are limited to 256 KiB.'));
    }
    if (type === 'entity.parse.failed') {
      return sendProblem(res, problemBody(400, 'Malformed JSON', 'The request body is not valid JSON.'));
    }
    const status = (err as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return sendProblem(res, problemBody(status, 'Bad request', (err as Error).message));
    }
    logger.error({ err, method: req.method, url: req.originalUrl }, 'unhandled error');
    sendProblem(res, problemBody(500, 'Internal error', 'Something went wrong on our side; it has been logged.'));
  };
}
