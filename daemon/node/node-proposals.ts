// Where this node's proposals go. The leader stamps each command with
// cluster time (`at`, node-clock.ts) and proposes it to its own log; a
// follower in a cluster forwards the unstamped command to the leader
// (forwarder.ts) and resolves it when it applies the entry carrying its tag;
// a follower without an app channel (a single node, tests) answers
// NOT_LEADER with the leader's id. Apart from FloeNode so the route of a
// request from the client server to the log reads in one place.
import { ProposalError, type RaftDriver } from '../raft-driver/index.ts';
import type { TimeStamp } from './cluster-clock.ts';
import { encodeCommand, encodeTaggedCommand, type LogCommand, type NodeResult, type UnstampedLogCommand } from './command-codec.ts';
import { Forwarder, type AppChannel, type ForwarderOptions } from './forwarder.ts';

/** What NodeProposals needs of its node. */
export interface NodeProposalsDeps {
  readonly nodeId: string;
  readonly driver: RaftDriver<NodeResult>;
  /** Cluster time to stamp a command with (a leader's). */
  readonly stamp: () => TimeStamp;
  /** The transport's app channel: present in a cluster, where followers forward proposals to the leader. */
  readonly appChannel: AppChannel | undefined;
  readonly forwarding: ForwarderOptions;
  readonly log: (line: string) => void;
}

/** Proposes on the leader, forwards from a follower. */
export class NodeProposals {
  /** Set in a cluster: proposals of a follower go to the leader through it. */
  private readonly forwarder: Forwarder | undefined;

  constructor(private readonly deps: NodeProposalsDeps) {
    const driver = deps.driver;
    this.forwarder =
      deps.appChannel === undefined
        ? undefined
        : new Forwarder(
            {
              nodeId: deps.nodeId,
              leaderId: () => driver.leaderId,
              isLeader: () => driver.isLeader,
              proposeLocal: (command) => this.proposeHere(command),
              proposeTagged: (command, tag, origin) => {
                if (!driver.isLeader) return Promise.reject(new ProposalError('NOT_LEADER', 'not the leader', driver.leaderId));
                const stamped = { ...command, ...deps.stamp() } as LogCommand;
                return driver.propose(encodeTaggedCommand(tag, stamped), stamped, origin);
              },
              log: deps.log,
            },
            deps.appChannel,
            deps.forwarding,
          );
  }

  /**
   * Resolves with the result of `command` once it is durable and applied
   * here. Rejects with ProposalError (NOT_LEADER, OVERLOADED, DROPPED,
   * STOPPED, UNAVAILABLE) when it was not or may not have been applied.
   */
  propose(command: UnstampedLogCommand): Promise<NodeResult> {
    if (!this.deps.driver.isLeader && this.forwarder !== undefined) return this.forwarder.forward(command);
    return this.proposeHere(command);
  }

  /** This node applied an entry a follower forwarded with `tag`: resolves it if it was ours. */
  applied(tag: string, result: NodeResult): void {
    this.forwarder?.applied(tag, result);
  }

  /** The leader changed: pending forwards go to the new one. */
  leaderChanged(): void {
    this.forwarder?.leaderChanged();
  }

  /** Fails the pending forwards and stops forwarding. */
  close(): void {
    this.forwarder?.close();
  }

  /** Proposes on this node, which must lead. */
  private proposeHere(command: UnstampedLogCommand): Promise<NodeResult> {
    const driver = this.deps.driver;
    if (!driver.isLeader) {
      return Promise.reject(new ProposalError('NOT_LEADER', 'this node does not lead the cluster', driver.leaderId));
    }
    const stamped = { ...command, ...this.deps.stamp() } as LogCommand;
    // Our own entries apply from the object we encoded: no JSON parse on the hot path.
    return driver.propose(encodeCommand(stamped), stamped);
  }
}
