/**
 * Retry timing of deliveries: the schedule of delays between attempts, its jitter,
 * and how a receiver's Retry-After stretches it. Pure: no clock, no I/O.
 */

/** How long a receiver's answer is waited for when its subscription does not say (`timeoutMs`). */
export const DEFAULT_TIMEOUT_MS = 15_000;

/** Delays before each retry; with the immediate first attempt, 8 attempts in all. */
export const DEFAULT_RETRY_SCHEDULE = ['5s', '5m', '30m', '2h', '5h', '10h', '10h'] as const;

const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
/** RFC 9110's obsolete rfc850-date, `Sunday, 06-Nov-94 08:49:37 GMT`, which recipients must still read. */
const RFC850_DATE = new RegExp(`^(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
/** RFC 9110's obsolete asctime-date, `Sun Nov  6 08:49:37 1994` (GMT), which recipients must still read. */
const ASCTIME_DATE = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ${MONTH} (\\d{2}| \\d) ${TIME} (\\d{4})$`);
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;
const JITTER = 0.1;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Parses "250ms", "5s", "5m", "2h", "1d" into milliseconds; throws on anything else. */
export function parseDuration(text: string): number {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) throw new Error(`invalid duration "${text}": use a number followed by ms, s, m, h or d`);
  return Math.round(Number(match[1]) * UNIT_MS[match[2]]);
}

export interface RetryPolicy {
  /** Delays before each retry, in milliseconds. */
  scheduleMs: number[];
  /** Total attempts allowed, the first included. */
  maxAttempts: number;
}

export function retryPolicyOf(retry?: { schedule?: string[]; maxAttempts?: number }): RetryPolicy {
  const scheduleMs = (retry?.schedule ?? [...DEFAULT_RETRY_SCHEDULE]).map(parseDuration);
  const full = scheduleMs.length + 1;
  const maxAttempts = retry?.maxAttempts ? Math.min(retry.maxAttempts, full) : full;
  return { scheduleMs, maxAttempts };
}

/**
 * Delay before the attempt after `attempt` (1-based), or null when none is left.
 * `random` is injected so tests can pin the jitter.
 */
export function nextDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number | null {
  if (attempt >= policy.maxAttempts) return null;
  const base = policy.scheduleMs[attempt - 1];
  const factor = 1 - JITTER + 2 * JITTER * random();
  return Math.round(base * factor);
}

/**
 * An HTTP-date in any of RFC 9110's three formats, or null. Only those: Date.parse alone would
 * read "-3600" as a year.
 */
function httpDateMs(text: string, now: number): number | null {
  if (IMF_FIXDATE.test(text)) {
    const at = Date.parse(text);
    return Number.isNaN(at) ? null : at;
  }
  const rfc850 = RFC850_DATE.exec(text);
  if (rfc850) {
    const [, day, month, yy, h, m, sec] = rfc850;
    // A two-digit year more than 50 years ahead is the most recent past year ending so (RFC 9110).
    const thisYear = new Date(now).getUTCFullYear();
    let year = thisYear - (thisYear % 100) + Number(yy);
    if (year > thisYear + 50) year -= 100;
    return utcMs(year, month, day, h, m, sec);
  }
  const asctime = ASCTIME_DATE.exec(text);
  if (asctime) {
    const [, month, day, h, m, sec, year] = asctime;
    return utcMs(Number(year), month, day.trim(), h, m, sec);
  }
  return null;
}

/** The instant of a GMT date and time, or null when a field is out of range (31 Feb, 25:00). */
function utcMs(year: number, month: string, day: string, h: string, m: string, sec: string): number | null {
  const monthIndex = MONTHS.indexOf(month);
  const at = new Date(Date.UTC(year, monthIndex, Number(day), Number(h), Number(m), Number(sec)));
  const exact =
    at.getUTCFullYear() === year && at.getUTCMonth() === monthIndex && at.getUTCDate() === Number(day) && at.getUTCHours() === Number(h);
  return exact && Number(m) < 60 && Number(sec) < 61 ? at.getTime() : null;
}

/**
 * Retry-After as seconds or an HTTP date, in milliseconds from `now`, capped at 24 h.
 * Unparseable or negative values are ignored (null), as RFC 9110 allows.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const at = httpDateMs(trimmed, now);
    if (at === null) return null;
    ms = at - now;
  }
  if (ms < 0) return null;
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}
