// daemon/raft-driver: the replicated log's I/O loop around a RaftNode.
export * from './driver-scheduler.ts';
export * from './raft-transport.ts';
export * from './proposal-batch.ts';
export * from './proposal-error.ts';
export * from './raft-driver.ts';
