import { temporal } from '@temporalio/proto';

/**
 * Histories as the replay test keeps them: protobuf's JSON mapping made by @temporalio/proto's
 * own classes. The SDK's `historyToJSON` fails here ("type must be a Type"): this lockfile has
 * two copies of protobufjs, and the SDK's JSON helper checks types against the other one.
 */
const { History } = temporal.api.history.v1;

export function historyToText(history: temporal.api.history.v1.IHistory): string {
  return JSON.stringify(History.toObject(History.fromObject(history), { longs: String, enums: String, bytes: String }), null, 1);
}

export function historyFromText(text: string): temporal.api.history.v1.History {
  return History.fromObject(JSON.parse(text));
}
