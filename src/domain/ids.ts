import { randomBytes } from 'node:crypto';
import { ulid } from 'ulid';

/** Identifiers carry their noun as a prefix and sort by creation time (ULID). */
export const newEventId = () => `evt_${ulid()}`;
export const newMessageId = () => `msg_${ulid()}`;
export const newSubscriptionId = () => `sub_${ulid()}`;
export const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;
export const newIngestLogId = () => `ing_${ulid()}`;
