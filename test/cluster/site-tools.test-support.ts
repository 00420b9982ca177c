// What the churn tests and bench/cluster/ add on top of ClusterSite
// (cluster-harness.test-support.ts): a guard that SIGKILLs a site's `floe
// serve` children when this process exits (a crashed test or an interrupted
// bench must never leave servers behind), and the admin reads the checks use
// (applied indexes, the leader's term). Tests wait with `vi.waitFor`; the
// benches, which run outside vitest, poll with bench/until.ts.
import { parseLockCode } from '../../protocol/index.ts';
import { waitUntil } from '../wait-until.test-support.ts';
import { ClusterSite, type SiteNode } from './cluster-harness.test-support.ts';

/** Sites whose children the exit guard kills. */
const guardedSites = new Set<ClusterSite>();
let exitHookInstalled = false;

/** SIGKILLs every live child of every guarded site (synchronous: safe in an 'exit' handler). */
export function killGuardedChildren(): void {
  for (const site of guardedSites) {
    for (const n of site.nodes) {
      if (isLive(n)) n.child!.kill('SIGKILL');
    }
  }
}

/**
 * Registers `site` with the exit guard: whatever happens to this process
 * (a failed assertion, an uncaught error, process.exit), its `floe serve`
 * children are SIGKILLed on 'exit'. `signals`: also on SIGINT/SIGTERM (the
 * bench's own process; a vitest worker leaves its signals to vitest).
 * Answers a function that unregisters the site (call it after site.stop()).
 */
export function guardSite(site: ClusterSite, options: { signals?: boolean } = {}): () => void {
  guardedSites.add(site);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', killGuardedChildren);
  }
  if (options.signals === true) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      if (process.listenerCount(signal) === 0) {
        process.once(signal, () => {
          killGuardedChildren();
          process.exit(130);
        });
      }
    }
  }
  return () => guardedSites.delete(site);
}

/** True while the node's current process runs. */
export function isLive(node: SiteNode): boolean {
  return node.child !== undefined && node.child.exitCode === null && node.child.signalCode === null;
}

/**
 * `value`, or a throw naming `what` when it is undefined or null: the probe
 * of a `vi.waitFor` that waits for something to exist (a leader, a reply).
 */
export function defined<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`waiting for ${what}`);
  return value;
}

/** What GET /health says about a node (null when it does not answer). */
export interface NodeHealth {
  readonly nodeId: string;
  readonly role: string;
  readonly leaderId: string;
  readonly term: number;
  readonly appliedIndex: number;
  /** Readys processed since start (one transaction and at most one fsync each); absent on older nodes. */
  readonly readyCount?: number;
  /** Storage transactions since start; absent on older nodes. */
  readonly transactionCount?: number;
  /** fdatasyncs of the WAL since start; absent on older nodes. */
  readonly syncCount?: number;
}

/** GET /health of `id`; null when it does not answer. */
export async function healthOf(site: ClusterSite, id: string): Promise<NodeHealth | null> {
  const r = await site.admin(id, '/health');
  return r?.status === 200 ? (r.body as NodeHealth) : null;
}

/** The leader's view of the cluster (GET /cluster of the leader); null when it does not answer. */
export async function clusterOf(site: ClusterSite, id: string): Promise<{ leaderId: string; term: number; nodes: { id: string; role: string; appliedIndex: number | null; matchIndex?: number }[] } | null> {
  const r = await site.admin(id, '/cluster');
  return r?.status === 200 ? r.body : null;
}

/** The live nodes' ids. */
export function liveIds(site: ClusterSite): string[] {
  return site.nodes.filter(isLive).map((n) => n.id);
}


/** `code` in its canonical form (as keys and `floe lockcode` write it); throws on text that is no lock code. */
export function canonicalLockCode(code: string): string {
  const parsed = parseLockCode(code);
  if (!parsed.ok) throw new Error(`not a lock code: ${code}`);
  return parsed.code;
}

/**
 * Starts every node of `site` and waits (at most `timeoutMs`) until a leader
 * serves the site license's `demo` pool; answers the leader's id.
 */
export async function startInForce(site: ClusterSite, timeoutMs = 30_000): Promise<string> {
  await Promise.all(site.nodes.map((n) => site.start(n.id)));
  const leader = await site.leader();
  await waitUntil('the site license in force', timeoutMs, async () => {
    const r = await site.admin(leader, '/pools');
    return r?.status === 200 && (r.body as { feature: string }[]).some((p) => p.feature === 'demo') ? true : undefined;
  });
  return leader;
}
