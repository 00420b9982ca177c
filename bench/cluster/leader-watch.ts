// Watches a site's leadership while a bench runs: every node's /health is
// polled every LEADER_POLL_MS, and every distinct (term, leader) seen is
// kept, so a bench can print how many times the leader changed (goal 0).
import { sleep } from '../figures.ts';
import type { ClusterSite } from '../../test/cluster/cluster-harness.test-support.ts';
import { healthOf } from '../../test/cluster/site-tools.test-support.ts';

/** `ms` between two polls of every node's /health. */
export const LEADER_POLL_MS = 250;

/** What a LeaderWatch saw. */
export interface LeaderFigures {
  /** Distinct (term, leader) pairs seen, minus one. */
  readonly leaderChanges: number;
  /** The highest term at the end minus the highest at the start. */
  readonly termChanges: number;
  /** `term:leaderId` pairs in the order first seen. */
  readonly seen: readonly string[];
  readonly polls: number;
  /** `ms`: the slowest /health answer of any node (an event loop held up shows here first). */
  readonly healthMsMax: number;
}

/** Polls until stop(); start with LeaderWatch.start. */
export class LeaderWatch {
  private polling = true;
  private readonly seen: string[] = [];
  private polls = 0;
  private healthMsMax = 0;
  private loop: Promise<void> = Promise.resolve();

  private constructor(
    private readonly site: ClusterSite,
    private readonly term0: number,
  ) {}

  /** Starts polling `site`. */
  static async start(site: ClusterSite): Promise<LeaderWatch> {
    const watch = new LeaderWatch(site, await LeaderWatch.highestTerm(site));
    watch.loop = watch.poll();
    return watch;
  }

  private static async highestTerm(site: ClusterSite): Promise<number> {
    const views = await Promise.all(site.nodes.map((n) => healthOf(site, n.id)));
    return Math.max(0, ...views.map((v) => v?.term ?? 0));
  }

  private async poll(): Promise<void> {
    while (this.polling) {
      const views = await Promise.all(
        this.site.nodes.map(async (n) => {
          const t0 = performance.now();
          const v = await healthOf(this.site, n.id);
          this.healthMsMax = Math.max(this.healthMsMax, performance.now() - t0);
          return v;
        }),
      );
      this.polls++;
      for (const v of views) {
        if (v === null || v.leaderId === '') continue;
        const view = `${v.term}:${v.leaderId}`;
        if (!this.seen.includes(view)) this.seen.push(view);
      }
      await sleep(LEADER_POLL_MS);
    }
  }

  /** Stops polling; answers what was seen. */
  async stop(): Promise<LeaderFigures> {
    this.polling = false;
    await this.loop;
    const termChanges = (await LeaderWatch.highestTerm(this.site)) - this.term0;
    return { leaderChanges: Math.max(0, this.seen.length - 1), termChanges, seen: [...this.seen], polls: this.polls, healthMsMax: Math.round(this.healthMsMax) };
  }
}
