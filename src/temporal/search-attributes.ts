import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The custom search attributes of the public contract (docs/api.md section 5); the Web UI filters deliveries by them. */
export const HeraldTenant = defineSearchAttributeKey('HeraldTenant', SearchAttributeType.KEYWORD);
export const HeraldEventType = defineSearchAttributeKey('HeraldEventType', SearchAttributeType.KEYWORD);
export const HeraldSubscriptionIds = defineSearchAttributeKey('HeraldSubscriptionIds', SearchAttributeType.KEYWORD_LIST);
export const HeraldStatus = defineSearchAttributeKey('HeraldStatus', SearchAttributeType.KEYWORD);
export const HERALD_SEARCH_ATTRIBUTES = [HeraldTenant, HeraldEventType, HeraldSubscriptionIds, HeraldStatus];

/**
 * The longest Keyword value every visibility store keeps: SQL visibility's columns are
 * VARCHAR(255). Temporal accepts a longer value at the start and then fails the visibility
 * write of it on every retry, so the workflow never shows in the Web UI.
 */
const MAX_KEYWORD_CHARS = 255;

/** An event type as indexed (`HeraldEventType`): types may be 256 characters long, and the last is cut off. */
export const indexableEventType = (type: string): string => type.slice(0, MAX_KEYWORD_CHARS);

/** Temporal refuses a search attribute value over 2 KiB (its default per-value limit). */
const MAX_VALUE_BYTES = 2048;

/**
 * The subscription ids to index: as many as fit in one value, in order. A large fan-out
 * lists only its first subscriptions in Temporal; the audit has them all.
 */
export function indexableSubscriptionIds(ids: readonly string[]): string[] {
  const kept: string[] = [];
  let size = 2; // the JSON list's brackets
  for (const id of ids) {
    size += JSON.stringify(id).length + 1;
    if (size > MAX_VALUE_BYTES) break;
    kept.push(id);
  }
  return kept;
}
