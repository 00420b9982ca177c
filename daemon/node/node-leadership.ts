// Leadership as the node sees it: every role change is logged and told to
// the listeners (the admin event stream, whenLeader), and a new leader
// takes office before anything else: every lease gets the grace period (the
// clients of a dead leader or a restarted node get time to reconnect), the
// config's license files are installed, the cluster gets its borrow key,
// then the reaper runs. Apart from FloeNode so what a new leader does reads
// in one place.
import { ProposalError } from '../raft-driver/index.ts';
import type { SoftState } from '../raft/types.ts';

/** What NodeLeadership needs of its node. */
export interface NodeLeadershipDeps {
  readonly isLeader: () => boolean;
  /** True when no pool holds a lease or a queued request (no grace to give). */
  readonly poolIdle: () => boolean;
  /** `ms`: the grace every lease gets from a new leader (config leaderGraceMs). */
  readonly leaderGraceMs: number;
  /** Proposes the grace command; resolves once applied. */
  readonly proposeGrace: (graceMs: number) => Promise<unknown>;
  /** Installs the license files of the config (node-licenses.ts). */
  readonly installLicenseFiles: () => Promise<unknown>;
  /** Gives the cluster its borrow key when it has none (borrow-tokens.ts). */
  readonly ensureBorrowKey: () => Promise<void>;
  /** Hears every role change, after the listeners (the forwarder re-routes its pending forwards). */
  readonly leaderChanged: () => void;
  /** Reschedules the lease reaper (it runs on the leader only). */
  readonly scheduleReaper: () => void;
  readonly log: (line: string) => void;
}

/** Role changes, their listeners, and what a new leader does first. */
export class NodeLeadership {
  private readonly listeners = new Set<(state: SoftState) => void>();

  constructor(private readonly deps: NodeLeadershipDeps) {}

  /** Subscribes to leadership changes; returns the unsubscribe. */
  onLeadership(listener: (state: SoftState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once this node leads; rejects with ProposalError NOT_LEADER after `timeoutMs`. */
  whenLeader(timeoutMs: number): Promise<void> {
    if (this.deps.isLeader()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new ProposalError('NOT_LEADER', `no leadership within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onLeadership((state) => {
        if (state.role !== 'leader') return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }

  /** The driver's role changed (RaftDriver's onSoftState). */
  changed(state: SoftState): void {
    this.deps.log(`role ${state.role}, leader ${state.leaderId || '(none)'}`);
    for (const l of this.listeners) l(state);
    this.deps.leaderChanged();
    if (state.role === 'leader') void this.takeOffice();
    else this.deps.scheduleReaper();
  }

  /** A new leader: grace for every lease, the config's license files, the borrow key; then reap. */
  private async takeOffice(): Promise<void> {
    try {
      if (!this.deps.poolIdle()) await this.deps.proposeGrace(this.deps.leaderGraceMs);
      await this.deps.installLicenseFiles();
      // Any node may sign a borrow token: the cluster has one key, in the log.
      await this.deps.ensureBorrowKey();
    } catch (error) {
      this.deps.log(`taking office: ${(error as Error).message}`);
    }
    this.deps.scheduleReaper();
  }
}
