import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { RegExpEngine } from 'ajv/dist/types';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { LRUCache } from 'lru-cache';
import { RE2JS } from 're2js';
import { isStoreUnreachable, type Store } from '../store';
import { schemasOf } from '../store/event-types';
import { unavailable } from './temporal-call';

/**
 * JSON Schema validation of event `data` against the tenant's event-type registry. Schemas
 * are compiled once per registry version, which each request reads before it is checked
 * (`tenantVersionsReader`), so a schema registered before a request was sent applies to it.
 */

/**
 * Larger patterns are refused: RE2's time is linear in the string, times the pattern's program
 * at worst. `^.{0,1000}$` is about 2,000 instructions; a pattern built to defeat RE2's DFA took
 * 2.3 s on a 256 KiB string with 900 (re2js on this project's 2-core machine), not hours.
 */
const MAX_PATTERN_PROGRAM = 2_500;
/** And all of one schema's patterns together: each may apply to every string of an event. */
const MAX_SCHEMA_PATTERN_PROGRAM = 5_000;
/**
 * What the schema being compiled (`compileSchema`, synchronous) may still spend on patterns, and
 * those charged already: Ajv asks for a pattern at each place its code uses it (a `$defs` entry
 * inlined at each `$ref`, `patternProperties` again for `additionalProperties`), which is one
 * pattern to match.
 */
let patternBudget = MAX_SCHEMA_PATTERN_PROGRAM;
const patternsCharged = new Set<string>();

/**
 * `pattern` and `patternProperties` match in linear time (RE2): a tenant's schema is input
 * Herald does not trust, and with JavaScript's backtracking engine `"pattern": "^(a+)+$"` held
 * the API's one thread for hours on a 40-character string, for every tenant. A pattern must
 * be valid for JavaScript, as JSON Schema asks (compiling one is safe; matching is not), and
 * runnable by RE2, which has no lookaround and no backreference: others are refused when the
 * schema is registered.
 */
const linearRegExp: RegExpEngine = Object.assign(
  (pattern: string, flags: string) => {
    new RegExp(pattern, flags); // throws a SyntaxError naming what is wrong
    const compiled = RE2JS.compile(RE2JS.translateRegExp(pattern)); // JavaScript's \uXXXX, \u{…} and \cX as RE2 writes them
    if (compiled.programSize() > MAX_PATTERN_PROGRAM) {
      throw new Error(`pattern ${JSON.stringify(pattern)} is too large to match in linear time; simplify it`);
    }
    if (!patternsCharged.has(pattern)) patternBudget -= compiled.programSize();
    patternsCharged.add(pattern);
    if (patternBudget < 0) throw new Error("the schema's patterns are too large together to match in linear time; simplify them");
    // Ajv keys a schema's patterns by this text.
    return { test: (s: string) => compiled.matcher(s).find(), toString: () => `/${pattern}/${flags}` };
  },
  { code: 'RE2JS' }, // names the engine in standalone code only, which Herald does not generate
);

// Not strict: schemas written for other tools carry keywords (`example`, `x-…`) Ajv does not know.
const options = { strict: false, allErrors: true, code: { regExp: linearRegExp } } as const;

const draft2020 = addFormats(new Ajv2020(options));
const draft07 = addFormats(new Ajv(options));
// Their meta-schemas are compiled on first use, with their own patterns: now, so that no
// tenant's schema is charged for them.
draft2020.getSchema('https://json-schema.org/draft/2020-12/schema');
draft07.getSchema('http://json-schema.org/draft-07/schema');

function compilerFor(schema: Record<string, unknown>): Ajv {
  return typeof schema.$schema === 'string' && /draft-0[4-7]/.test(schema.$schema) ? draft07 : draft2020;
}

/**
 * Compiles a schema; throws with Ajv's message when it is not a valid JSON Schema. The
 * compiler forgets it again (the function it made stays whole): Ajv keeps every schema it
 * compiled, so a shared one grew with each registration and recompile, and refused a second
 * schema with an `$id` it held, which failed that type's events (500) and its re-registration.
 */
export function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  const compiler = compilerFor(schema);
  let validate: ValidateFunction;
  patternBudget = MAX_SCHEMA_PATTERN_PROGRAM;
  patternsCharged.clear();
  try {
    validate = compiler.compile(schema);
  } catch (err) {
    // Ajv adds the schema (its `$id`) before it checks it, so a refused one is removed too,
    // unless it was refused for an `$id` the compiler holds (its meta-schema's): never added,
    // and removing by that `$id` would take the meta-schema with it.
    if (!/already exists/.test((err as Error).message)) compiler.removeSchema(schema);
    throw err;
  }
  compiler.removeSchema(schema);
  return validate;
}

export interface DataIssue {
  path: string[];
  message: string;
}

const MAX_ISSUES = 20;

/** Ajv's errors as paths inside `data` (`["data", "items", "0", "name"]`). */
function issuesOf(errors: ErrorObject[]): DataIssue[] {
  return errors.slice(0, MAX_ISSUES).map((e) => {
    const path = [
      'data',
      ...e.instancePath
        .split('/')
        .slice(1)
        .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')),
    ];
    const params = e.params as { missingProperty?: string; additionalProperty?: string };
    if (e.keyword === 'required' && params.missingProperty) path.push(params.missingProperty);
    if (e.keyword === 'additionalProperties' && params.additionalProperty) path.push(params.additionalProperty);
    return { path, message: e.message ?? `fails "${e.keyword}"` };
  });
}

interface TenantSchemas {
  version: number;
  sources: Map<string, string>;
  compiled: Map<string, ValidateFunction>;
}

export interface EventDataValidator {
  /**
   * For each event, the issues its `data` has against its type's schema (empty when none or no
   * schema), with the tenant's registry at `registryVersion`: undefined when the store could not
   * be read for it.
   */
  check(
    tenant: string,
    events: { type: string; data: Record<string, unknown> }[],
    registryVersion: number | undefined,
  ): Promise<DataIssue[][]>;
}

export function createEventDataValidator(store: Store): EventDataValidator {
  const tenants = new LRUCache<string, TenantSchemas>({ max: 1000 });

  async function schemasFor(tenant: string, registryVersion: number | undefined): Promise<TenantSchemas> {
    const cached = tenants.get(tenant);
    // Intake does not depend on the store (the workflow's start is the acceptance): through
    // an outage the schemas last read go on validating. With none read yet, the producer is
    // told to resend rather than have its events accepted unchecked.
    const unreadable = () => {
      if (cached) return cached;
      throw unavailable('The event-type registry cannot be read (the store is unreachable); nothing was accepted, try again.');
    };
    if (registryVersion === undefined) return unreadable();
    // Newer than the request's read also holds every change made before the request.
    if (cached && cached.version >= registryVersion) return cached;
    try {
      const loaded = await schemasOf(store, tenant);
      const fresh = { version: loaded.version, sources: loaded.schemas, compiled: new Map<string, ValidateFunction>() };
      // A load of an older registry that ends last does not replace a newer one.
      if ((tenants.get(tenant)?.version ?? -Infinity) < fresh.version) tenants.set(tenant, fresh);
      return fresh;
    } catch (err) {
      if (!isStoreUnreachable(err)) throw err;
      return unreadable();
    }
  }

  return {
    async check(tenant, events, registryVersion) {
      const schemas = await schemasFor(tenant, registryVersion);
      return events.map((event) => {
        const source = schemas.sources.get(event.type);
        if (!source) return [];
        // A schema registered before PUT refused what cannot be applied (or recursing only on
        // some data) fails its events with a 400 that says so, never a 500.
        try {
          let validate = schemas.compiled.get(event.type);
          if (!validate) {
            validate = compileSchema(JSON.parse(source) as Record<string, unknown>);
            schemas.compiled.set(event.type, validate);
          }
          return validate(event.data) ? [] : issuesOf(validate.errors ?? []);
        } catch (err) {
          const message = `cannot be checked: the schema registered for ${event.type} fails (${(err as Error).message}); replace it with PUT /v1/event-types/${event.type}`;
          return [{ path: ['data'], message }];
        }
      });
    },
  };
}
