// The workflow bundle's entry: every workflow type the worker registers.
export { applyRetention } from './apply-retention';
export { collectDigest } from './collect-digest';
export { deliverEvent } from './deliver-event';
export { recoverDeliveries } from './recover-deliveries';
export { startEvents } from './start-events';
