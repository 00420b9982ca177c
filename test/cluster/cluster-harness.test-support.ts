// Helpers of the multi-process cluster tests: a three-node site on loopback
// (identities, a redundant license locked to all three lock codes, configs
// listing each other, free ports), `floe serve` child processes that are
// killed when the test ends, and admin API reads. Colleagues' churn tests and
// bench/cluster/ may reuse it. With `tls: true` every listener speaks TLS
// (wss://, https://, mutual TLS between peers) with a site CA and node
// certificates made as `floe tls init|issue` makes them.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { hashToken } from '../../admin/index.ts';
import { loadNodeIdentity } from '../../daemon/identity/index.ts';
import { encodeBase64url, type LicensePayload } from '../../protocol/index.ts';
import { fetchTrustingCa } from '../../cli/ca-fetch.ts';
import { writeTestSiteTls } from '../../daemon/tls/site-pki.test-support.ts';
import { ADMIN_TOKEN, makeLicenseKey, tempDir, VENDOR_PUBLIC_KEY } from '../daemon/test-daemon.test-support.ts';
import { waitUntil } from '../wait-until.test-support.ts';
import { freePorts } from './free-ports.test-support.ts';

export { freePorts };

const ROOT = join(import.meta.dirname, '..', '..');
/**
 * `ms` a `floe serve` may take to print its ready line. Most of a start is
 * tsx compiling the sources; with three nodes starting at once beside other
 * test files on two loaded cores that took over 20 s (load average ~20).
 */
const START_MS_MAX = 60_000;
/** `ms` leader() waits for the live nodes to agree on a leader, unless told. */
const LEADER_WAIT_MS_DEFAULT = 15_000;

/** One member of a ClusterSite. */
export interface SiteNode {
  readonly id: string;
  readonly config: string;
  readonly clientUrl: string;
  readonly adminUrl: string;
  readonly lockCode: string;
  child: ChildProcess | undefined;
  /** Everything the process wrote on stderr (its log), across restarts. */
  stderr: string;
}

/** Options of ClusterSite.create. */
export interface SiteOptions {
  readonly nodes?: number;
  readonly seats?: number;
  /** Fields of the site license beyond its seats (e.g. borrowAllowed). */
  readonly license?: Partial<LicensePayload>;
  /** Extra top-level TOML lines of every config (e.g. leaseTtlMs). */
  readonly extraToml?: readonly string[];
  /** Lines of the [raft] table. */
  readonly raftToml?: readonly string[];
  /** TLS on every listener: a site CA (`caFile`), a certificate per node, wss:// and https:// URLs. */
  readonly tls?: boolean;
}

/** A three-node site under a temp dir; stop() kills every process and removes the dir. */
export class ClusterSite {
  /** The admin reads' fetch: the global one, or one that trusts the site CA. */
  private readonly fetch: typeof fetch;
  private constructor(
    readonly dir: string,
    readonly nodes: SiteNode[],
    /** The site CA's PEM file when the site speaks TLS (clients pin it). */
    readonly caFile?: string,
  ) {
    this.fetch = caFile === undefined ? fetch : fetchTrustingCa(readFileSync(caFile, 'utf8'));
  }

  static async create(options: SiteOptions = {}): Promise<ClusterSite> {
    const count = options.nodes ?? 3;
    const dir = tempDir('floe-cluster-');
    const ports = await freePorts(count * 3);
    const ids = Array.from({ length: count }, (_, i) => `n${i + 1}`);
    const identities = ids.map((id) => loadNodeIdentity(join(dir, id)));
    const lockCodes = identities.map((i) => i.lockCode);
    writeFileSync(join(dir, 'site.license'), `${makeLicenseKey(lockCodes, { ...options.license, seats: options.seats ?? 50, licenseId: 'LIC-SITE' })}\n`);
    const tls = options.tls === true ? await writeTestSiteTls(dir, ids) : undefined;
    const s = tls === undefined ? '' : 's';
    const url = (i: number) => ({ client: `ws${s}://127.0.0.1:${ports[i]}/ws`, admin: `http${s}://127.0.0.1:${ports[count + i]}`, peer: `ws${s}://127.0.0.1:${ports[2 * count + i]}/raft` });
    const peers = ids.map((id, i) => `  { id = "${id}", peerUrl = "${url(i).peer}", clientUrl = "${url(i).client}", publicKey = "${encodeBase64url(identities[i]!.publicKey)}" },`);
    const nodes = ids.map((id, i): SiteNode => {
      const config = join(dir, `${id}.toml`);
      writeFileSync(
        config,
        [
          `nodeId = "${id}"`,
          `dataDir = "${id}"`,
          `clientListen = "127.0.0.1:${ports[i]}"`,
          `adminListen = "127.0.0.1:${ports[count + i]}"`,
          `vendorPublicKeys = ["${VENDOR_PUBLIC_KEY}"]`,
          'licenseFiles = ["site.license"]',
          `adminTokenSha256 = ["${hashToken(ADMIN_TOKEN)}"]`,
          ...(options.extraToml ?? []),
          ...(tls === undefined ? [] : ['[tls]', `certFile = "${tls.nodes[id]!.certFile}"`, `keyFile = "${tls.nodes[id]!.keyFile}"`, `caFile = "${tls.caFile}"`]),
          '[raft]',
          ...(options.raftToml ?? []),
          '[cluster]',
          `peerListen = "127.0.0.1:${ports[2 * count + i]}"`,
          'peers = [',
          ...peers,
          ']',
          '',
        ].join('\n'),
      );
      return { id, config, clientUrl: url(i).client, adminUrl: url(i).admin, lockCode: lockCodes[i]!, child: undefined, stderr: '' };
    });
    return new ClusterSite(dir, nodes, tls?.caFile);
  }

  node(id: string): SiteNode {
    const n = this.nodes.find((x) => x.id === id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /**
   * Starts `floe serve` for `id`; resolves once it printed its ready line.
   * `nodeArgs`: Node options before the script (`--cpu-prof
   * --cpu-prof-dir=DIR`: Node refuses them in NODE_OPTIONS).
   */
  async start(id: string, nodeArgs: readonly string[] = []): Promise<void> {
    const node = this.node(id);
    const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'bin', 'floe.js'), 'serve', '--config', node.config], { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    node.child = child;
    child.stderr!.on('data', (d) => (node.stderr += String(d)));
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${id} did not start: ${node.stderr.slice(-2000)}`)), START_MS_MAX);
      lines.on('line', (line) => {
        if (!line.startsWith('{')) return;
        clearTimeout(t);
        resolve();
      });
      child.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`${id} exited ${code}: ${node.stderr.slice(-2000)}`));
      });
    });
  }

  /** SIGKILLs `id` and waits for its exit. */
  async kill(id: string): Promise<void> {
    const child = this.node(id).child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /** GET an admin path of `id` (null when it does not answer). */
  async admin(id: string, path: string): Promise<{ status: number; body: any } | null> {
    try {
      const res = await this.fetch(`${this.node(id).adminUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: AbortSignal.timeout(3000) });
      return { status: res.status, body: await res.json() };
    } catch {
      return null;
    }
  }

  /** The leader every live node names now, or undefined while they disagree, name none, or it is not live (one look). */
  async agreedLeader(): Promise<string | undefined> {
    const live = this.nodes.filter((n) => n.child !== undefined && n.child.exitCode === null && n.child.signalCode === null);
    const views = await Promise.all(live.map((n) => this.admin(n.id, '/health')));
    const leaders = new Set(views.map((v) => (v?.body as { leaderId?: string } | undefined)?.leaderId ?? ''));
    const [only] = [...leaders];
    return leaders.size === 1 && only !== undefined && only !== '' && live.some((n) => n.id === only) ? only : undefined;
  }

  /** Resolves with the leader's id once every live node agrees on one; rejects after `timeoutMs`. */
  leader(timeoutMs = LEADER_WAIT_MS_DEFAULT): Promise<string> {
    return waitUntil('a leader every live node agrees on', timeoutMs, () => this.agreedLeader());
  }

  /** Kills every process and removes the directory. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.kill(n.id)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
