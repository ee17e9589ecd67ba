import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The custom search attributes of the contract; the Web UI filters deliveries by them. */
export const HeraldTenant = defineSearchAttributeKey('HeraldTenant', SearchAttributeType.KEYWORD);
export const HeraldEventType = defineSearchAttributeKey('HeraldEventType', SearchAttributeType.KEYWORD);
export const HeraldSubscriptionIds = defineSearchAttributeKey('HeraldSubscriptionIds', SearchAttributeType.KEYWORD_LIST);
export const HeraldStatus = defineSearchAttributeKey('HeraldStatus', SearchAttributeType.KEYWORD);

/**
 * Temporal caps the total size of a workflow's search attributes (40 KB by default), so a
 * large fan-out lists only its first subscriptions there; the audit has them all.
 */
export const MAX_INDEXED_SUBSCRIPTION_IDS = 200;
