import { InvalidArgumentError, type Command } from 'commander';
import { HeraldClient, type RetryOptions } from '../client';
import { parseDuration } from '../domain/schedule';
import { resolveConnection } from './config';
import type { OutputOptions } from './output';

/** What every command gets from the global options: a client for the chosen API, and the output mode. */

interface GlobalOptions extends OutputOptions {
  url?: string;
  apiKey?: string;
  profile?: string;
}

/** Key lifetimes: whole days, hours, minutes or seconds (`parseDuration` also reads ms and fractions). */
const EXPIRY_DURATION = /^[1-9]\d{0,5}(d|h|m|s)$/;

const globals = (command: Command) => command.optsWithGlobals<GlobalOptions>();

export function clientFor(command: Command, retries?: RetryOptions): HeraldClient {
  const { url, apiKey, profile } = globals(command);
  return new HeraldClient({ ...resolveConnection({ url, apiKey, profile }), ...(retries && { retries }) });
}

export function outputOf(command: Command): OutputOptions {
  return { json: globals(command).json ?? false };
}

/**
 * Option parsers that turn a flag's text into the value the API wants, or say what is wrong.
 * Arrow functions, as commander is handed them apart from this object.
 */
export const parse = {
  json: (text: string): Record<string, unknown> => {
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // reported below
    }
    throw new InvalidArgumentError('must be a JSON object, e.g. \'{"version": "1.2.3"}\'');
  },
  integer: (text: string): number => {
    if (!/^\d+$/.test(text)) throw new InvalidArgumentError('must be a whole number');
    return Number(text);
  },
  /** A whole number from `min` to `max`. */
  integerIn:
    (min: number, max: number) =>
    (text: string): number => {
      const n = parse.integer(text);
      if (n < min || n > max) throw new InvalidArgumentError(max === Infinity ? `must be ${min} or more` : `must be from ${min} to ${max}`);
      return n;
    },
  list: (text: string): string[] => {
    return text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  },
  /** `--subject package/herald`: the resource's type and id. */
  subject: (text: string): { type: string; id: string } => {
    const at = text.indexOf('/');
    if (at < 1 || at === text.length - 1) throw new InvalidArgumentError('must be "type/id", e.g. package/herald');
    return { type: text.slice(0, at), id: text.slice(at + 1) };
  },
  /** `--subject package/herald` (one resource) or `--subject package` (every resource of the type), repeatable. */
  limitSubject: (text: string, previous: { type: string; id?: string }[] = []): { type: string; id?: string }[] => {
    const at = text.indexOf('/');
    if (at === 0 || at === text.length - 1 || text.length === 0)
      throw new InvalidArgumentError('must be "type/id" or "type", e.g. package/herald');
    return [...previous, at < 0 ? { type: text } : { type: text.slice(0, at), id: text.slice(at + 1) }];
  },
  /** A repeatable option's values, in order. */
  repeated: (text: string, previous: string[] = []): string[] => [...previous, text],
  /** `--expires-in 30d`: a duration of d, h, m or s (src/domain/schedule.ts), in milliseconds. */
  duration: (text: string): number => {
    if (!EXPIRY_DURATION.test(text)) throw new InvalidArgumentError('must be a whole number of d, h, m or s, e.g. 30d, 12h, 90m');
    return parseDuration(text);
  },
  /** `--header name:value`, repeatable. */
  header: (text: string, previous: Record<string, string> = {}): Record<string, string> => {
    const at = text.indexOf(':');
    if (at < 1) throw new InvalidArgumentError('must be "name:value"');
    return { ...previous, [text.slice(0, at).trim()]: text.slice(at + 1).trim() };
  },
};
