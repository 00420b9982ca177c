// The events on the simulator's agenda (event-queue.ts), one union on
// `type`: node timers and Readys carry the incarnation they were scheduled
// for, so an event of a node that crashed since is dropped; messages carry
// the sender's incarnation for the snapshot report. cluster-sim.ts's
// handle() is the one switch over them.
import type { Message, NodeId } from '../../daemon/raft/index.ts';
import type { SimNode } from './sim-node.ts';

/** One event of a run. */
export type SimEvent =
  | { readonly type: 'tick'; readonly node: SimNode; readonly inc: number }
  | { readonly type: 'ready'; readonly node: SimNode; readonly inc: number }
  | { readonly type: 'deliver'; readonly message: Message; readonly fromInc: number }
  | { readonly type: 'snap-report'; readonly node: SimNode; readonly inc: number; readonly to: NodeId; readonly ok: boolean }
  | { readonly type: 'client'; readonly client: number; readonly token: number }
  | { readonly type: 'fault' }
  | { readonly type: 'restart'; readonly node: SimNode }
  | { readonly type: 'shutdown'; readonly node: SimNode }
  | { readonly type: 'heal' }
  | { readonly type: 'clients-stop' }
  | { readonly type: 'crash-leader' }
  | { readonly type: 'probe' }
  | { readonly type: 'deadline' }
  | { readonly type: 'call'; readonly node: SimNode; readonly inc: number; readonly label: string; readonly fn: () => void }
  | { readonly type: 'connection-lost'; readonly node: SimNode; readonly inc: number; readonly peer: NodeId };
