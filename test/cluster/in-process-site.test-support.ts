// Several Floe daemons in the test's own process, for the membership,
// partition and placement tests: identities and free ports for every id, a
// peer entry per node as configs list it (its client URL is where the node
// really serves clients, so SDK clients can be given the list), start/stop
// by index, the leader's admin API, and cleanup of every daemon, wire client
// and the data dir. (The multi-process ClusterSite in cluster-harness.test-support.ts is
// for SIGKILL tests.)
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect, vi } from 'vitest';
import { createAdminApp, hashToken } from '../../admin/index.ts';
import { parseConfig, startDaemon, type Daemon, type FaultInjector, type FloeConfig } from '../../daemon/index.ts';
import { loadNodeIdentity, type NodeIdentity } from '../../daemon/identity/index.ts';
import { encodeBase64url } from '../../protocol/index.ts';
import { ADMIN_TOKEN, tempDir, VENDOR_PUBLIC_KEY, WireClient } from '../daemon/test-daemon.test-support.ts';
import { freePorts } from './cluster-harness.test-support.ts';

/** `ms` a membership change is asked again while the leader refuses it as not yet possible. */
const MEMBERSHIP_RETRY_MS_MAX = 30_000;

/** A node as the peers list of a config names it. */
export interface SitePeer {
  readonly id: string;
  readonly peerUrl: string;
  readonly clientUrl: string;
  readonly publicKey: string;
}

/** Options of an in-process site. */
export interface InProcessSiteOptions {
  /** Node ids, in index order. */
  readonly ids: readonly string[];
  /** Prefix of the temporary data directory. */
  readonly dirPrefix: string;
  /** When this environment variable is set, nodes' log lines go to stdout prefixed with their id. */
  readonly debugEnv: string;
  /** Config fields every node gets on top of the site's defaults (e.g. `raft`, `leaseTtlMs`). */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Network faults shared by every node's peer transport (partitions). */
  readonly faults?: FaultInjector;
  /** A wall clock (`ms` since the epoch) for some nodes, by id; the others use Date.now. */
  readonly wallClocks?: Readonly<Record<string, () => number>>;
}

/** Daemons of one site, all in this process. */
export class InProcessSite {
  readonly daemons = new Map<string, Daemon>();
  /** Each node's config as first started: a restart reuses it (the file it started with). */
  private readonly configs = new Map<string, FloeConfig>();
  private readonly wires: WireClient[] = [];

  private constructor(
    private readonly options: InProcessSiteOptions,
    readonly dir: string,
    /** Per node, by index: the port of its peer transport. */
    readonly peerPorts: readonly number[],
    /** Per node, by index: the port its client server listens on. */
    readonly clientPorts: readonly number[],
    readonly identities: readonly NodeIdentity[],
  ) {}

  /** Identities (and so lock codes) and ports for every id; starts nothing. */
  static async create(options: InProcessSiteOptions): Promise<InProcessSite> {
    const dir = tempDir(options.dirPrefix);
    const n = options.ids.length;
    const ports = await freePorts(2 * n);
    const identities = options.ids.map((id) => loadNodeIdentity(join(dir, id)));
    return new InProcessSite(options, dir, ports.slice(0, n), ports.slice(n), identities);
  }

  get ids(): readonly string[] {
    return this.options.ids;
  }

  /** Node `i` as a config's peers list names it. */
  peer(i: number): SitePeer {
    return {
      id: this.options.ids[i]!,
      peerUrl: `ws://127.0.0.1:${this.peerPorts[i]}/raft`,
      clientUrl: `ws://127.0.0.1:${this.clientPorts[i]}/ws`,
      publicKey: encodeBase64url(this.identities[i]!.publicKey),
    };
  }

  /**
   * Starts node `i` with `peers` (and `join`) in its config, or, when it ran
   * before, with the config it first started with (its original file).
   */
  async start(i: number, peers: readonly SitePeer[] = [], joining = false): Promise<Daemon> {
    const id = this.options.ids[i]!;
    const config =
      this.configs.get(id) ??
      parseConfig({
        nodeId: id,
        dataDir: join(this.dir, id),
        clientListen: `127.0.0.1:${this.clientPorts[i]}`,
        adminListen: '127.0.0.1:0',
        vendorPublicKeys: [VENDOR_PUBLIC_KEY],
        adminTokenSha256: [hashToken(ADMIN_TOKEN)],
        leaseTtlMs: 10_000,
        heartbeatMs: 1000,
        renewBatchMs: 20,
        ...this.options.config,
        cluster: { peers, peerListen: `127.0.0.1:${this.peerPorts[i]}`, join: joining },
      });
    this.configs.set(id, config);
    const debug = process.env[this.options.debugEnv] !== undefined;
    const daemon = await startDaemon(config, {
      log: debug ? (line) => console.log(`${id} ${line}`) : () => {},
      ...(this.options.faults !== undefined ? { faults: this.options.faults } : {}),
      ...(this.options.wallClocks?.[id] !== undefined ? { wallClock: this.options.wallClocks[id] } : {}),
      adminApp: (node) => createAdminApp(node, { tokenSha256: config.adminTokenSha256, bodyBytesMax: config.limits.adminBodyBytesMax }),
    });
    this.daemons.set(id, daemon);
    return daemon;
  }

  /** Changes the config node `id` starts with from now on (an operator editing its file). */
  editConfig(id: string, edit: (config: FloeConfig) => FloeConfig): void {
    const config = this.configs.get(id);
    if (config === undefined) throw new Error(`${id} never started`);
    this.configs.set(id, edit(config));
  }

  /** Stops node `id` (if running). */
  async stop(id: string): Promise<void> {
    await this.daemons.get(id)?.close();
    this.daemons.delete(id);
  }

  /** The running daemon `id`; throws when it is not running. */
  daemon(id: string): Daemon {
    const d = this.daemons.get(id);
    if (d === undefined) throw new Error(`${id} is not running`);
    return d;
  }

  /** The running daemon that leads, if any. */
  leader(): Daemon | undefined {
    return [...this.daemons.values()].find((d) => d.node.isLeader);
  }

  /** A request to the leader's admin API with the site's token. */
  async admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const leader = this.leader();
    if (leader === undefined) throw new Error('no leader to ask');
    const res = await fetch(`${leader.adminUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as any };
  }

  /**
   * A membership change (POST /cluster/members, DELETE /cluster/members/:id)
   * through the leader, asked again while nothing was proposed: no leader
   * yet, or a 503 naming CONF_CHANGE_PENDING or NOT_LEADER (a leader just
   * elected refuses a change until it applied its predecessors' entries).
   * Answers the first reply that is not such a refusal; bounded by
   * `timeoutMs`.
   */
  async changeMembers(method: 'POST' | 'DELETE', path: string, body?: unknown, timeoutMs = MEMBERSHIP_RETRY_MS_MAX): Promise<{ status: number; body: any }> {
    return vi.waitFor(
      async () => {
        const reply = await this.admin(method, path, body);
        const refusal = reply.status === 503 ? /CONF_CHANGE_PENDING|NOT_LEADER|MEMBER_CATCHING_UP/.exec(`${reply.body?.error?.code} ${reply.body?.error?.message}`) : null;
        expect(refusal, `${method} ${path}: ${JSON.stringify(reply.body)}`).toBeNull();
        return reply;
      },
      { timeout: timeoutMs, interval: 50 },
    );
  }

  /** A wire client connected to node `id`, closed with the site. */
  async wire(id: string): Promise<WireClient> {
    const w = await WireClient.connect(this.daemon(id).clientUrl);
    this.wires.push(w);
    return w;
  }

  /** Closes every wire client, stops every daemon and removes the data dir. */
  async close(): Promise<void> {
    await Promise.all(this.wires.splice(0).map((w) => w.close().catch(() => {})));
    await Promise.all([...this.daemons.values()].map((d) => d.close()));
    this.daemons.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
