import { defineQuery } from '@temporalio/workflow';
import type { EventView, HeraldEvent } from '../domain/schemas';

/** Messages of the `deliverEvent` workflow, shared by the workflow and its clients. */

export interface DeliverEventInput {
  tenant: string;
  event: HeraldEvent;
}

/** Same shape as `GET /v1/events/{id}`, from the workflow's own state. */
export const statusQuery = defineQuery<EventView>('status');
