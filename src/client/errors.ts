import type { Problem } from './types';

/** An answer of the API that is not a success: the RFC 9457 problem it carried. */
export class HeraldProblemError extends Error {
  override readonly name = 'HeraldProblemError';
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string | undefined;
  readonly errors: Problem['errors'];

  constructor(
    readonly problem: Problem,
    /** The whole answer, e.g. a batch's per-item `results` on 503. */
    readonly body: unknown,
  ) {
    super(`${problem.status} ${problem.title}${problem.detail ? `: ${problem.detail}` : ''}`);
    this.type = problem.type;
    this.title = problem.title;
    this.status = problem.status;
    this.detail = problem.detail;
    this.errors = problem.errors;
  }
}

/** The API could not be reached (or the connection broke) on every attempt. */
export class HeraldNetworkError extends Error {
  override readonly name = 'HeraldNetworkError';
}

/** A success answer that is not the API's JSON: the URL most likely names something else. */
export class HeraldResponseError extends Error {
  override readonly name = 'HeraldResponseError';

  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    readonly contentType: string | null,
    body: string,
  ) {
    super(
      `${method} ${url} answered ${describeAnswer(status, contentType, body)}, not the Herald API's JSON: is the API's URL (--url, HERALD_URL) right?`,
    );
  }
}

/** Status, content type and the start of the body, as an error message shows them. */
export function describeAnswer(status: number, contentType: string | null, body: string): string {
  const start = body.trim().slice(0, 80);
  return `${status} (${contentType ?? 'no content type'})${start ? ` "${start}${body.trim().length > 80 ? '…' : ''}"` : ' with an empty body'}`;
}
