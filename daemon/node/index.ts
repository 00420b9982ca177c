// daemon/node: one Floe node composed of storage, the replicated log and the seat pools.
export * from './command-codec.ts';
export * from './floe-node.ts';
export * from './license-check.ts';
export * from './cluster-view.ts';
export * from './forwarder.ts';
export * from './license-locks.ts';
export * from './renew-batcher.ts';
export * from './committed-pool.ts';
export type { ClockStatus } from './node-clock.ts';
export * from './borrow-tokens.ts';
export * from './node-policy.ts';
