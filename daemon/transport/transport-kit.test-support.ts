// Helpers for the transport's own tests, its no-handles child process and its
// benchmark: key pairs, a recording logger, and a small cluster of real
// transports on 127.0.0.1 with ports picked by the OS.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Message, NodeId } from '../raft/types.ts';
import type { FaultInjector } from './fault-injector.ts';
import { FaultyTransport } from './faulty-transport.ts';
import type { PeerTls } from './peer-tls.ts';
import { PeerTransport, type PeerConfig, type PeerTransportApi } from './peer-transport.ts';
import type { TransportLimits, TransportLogger } from './transport-config.ts';

export interface TestKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** A fresh Ed25519 key pair. */
export function testKeyPair(): TestKeyPair {
  return generateKeyPairSync('ed25519');
}

/** A logger that keeps every line, for assertions. */
export class RecordingLogger implements TransportLogger {
  readonly lines: { level: 'info' | 'warn'; event: string; fields: Readonly<Record<string, unknown>> }[] = [];
  info(event: string, fields: Readonly<Record<string, unknown>>): void {
    this.lines.push({ level: 'info', event, fields });
  }
  warn(event: string, fields: Readonly<Record<string, unknown>>): void {
    this.lines.push({ level: 'warn', event, fields });
  }
  /** Reasons of the refusals logged so far. */
  refusals(): unknown[] {
    return this.lines.filter((line) => line.event === 'peer refused').map((line) => line.fields['reason']);
  }
}

/** One member of a TestCluster. */
export interface TestNode {
  readonly id: NodeId;
  readonly keys: TestKeyPair;
  readonly logger: RecordingLogger;
  /** Every message its handler received, in order. */
  readonly inbox: Message[];
  /** Peers it was told are unreachable, in order. */
  readonly unreachable: NodeId[];
  /** The node's transport; inside a FaultyTransport when the cluster has faults. */
  transport: PeerTransportApi;
  port: number;
}

export interface TestClusterOptions {
  readonly limits?: Partial<TransportLimits>;
  readonly faults?: FaultInjector;
  /** Each node's wall clock (default Date.now), e.g. one running ahead. */
  readonly wallClock?: (id: NodeId) => (() => number) | undefined;
  /** Each node's mutual TLS (peer URLs are then wss://). */
  readonly tls?: (id: NodeId) => PeerTls | undefined;
}

/** Real transports on 127.0.0.1, all connected to each other. Call stop() in a finally/afterEach. */
export class TestCluster {
  readonly nodes = new Map<NodeId, TestNode>();

  private constructor(private readonly options: TestClusterOptions) {}

  static async start(ids: readonly NodeId[], options: TestClusterOptions = {}): Promise<TestCluster> {
    const cluster = new TestCluster(options);
    for (const id of ids) {
      const node: TestNode = { id, keys: testKeyPair(), logger: new RecordingLogger(), inbox: [], unreachable: [], transport: undefined as never, port: 0 };
      cluster.nodes.set(id, node);
      await cluster.startNode(node, 0);
    }
    await Promise.all([...cluster.nodes.values()].map((node) => node.transport.updatePeers(cluster.peers())));
    return cluster;
  }

  /** The peers list every node shares. */
  peers(): PeerConfig[] {
    const scheme = this.options.tls === undefined ? 'ws' : 'wss';
    return [...this.nodes.values()].map((node) => ({ id: node.id, url: `${scheme}://127.0.0.1:${node.port}/raft`, publicKey: node.keys.publicKey }));
  }

  node(id: NodeId): TestNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  /** Starts (or restarts, after stopNode) a node's transport on `port` with the cluster's peers. */
  async startNode(node: TestNode, port: number): Promise<void> {
    const transport = new PeerTransport({
      nodeId: node.id,
      listen: { host: '127.0.0.1', port },
      identity: node.keys,
      lockCode: testLockCode(node.id),
      peers: node.port === 0 ? [] : this.peers(),
      logger: node.logger,
      ...(this.options.limits === undefined ? {} : { limits: this.options.limits }),
      ...(this.options.wallClock?.(node.id) === undefined ? {} : { wallClock: this.options.wallClock(node.id) as () => number }),
      ...(this.options.tls?.(node.id) === undefined ? {} : { tls: this.options.tls(node.id) as PeerTls }),
    });
    node.transport = this.options.faults === undefined ? transport : new FaultyTransport(transport, this.options.faults);
    node.transport.onMessages((messages) => node.inbox.push(...messages));
    node.transport.onUnreachable((peerId) => node.unreachable.push(peerId));
    node.port = (await node.transport.start()).port;
  }

  /** Waits until every node has an authenticated outbound connection to every other. */
  async connected(): Promise<void> {
    await waitFor(() =>
      [...this.nodes.values()].every((node) => Object.values(node.transport.stats().peers).every((peer) => peer.connected)),
    );
  }

  async stop(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((node) => node.transport?.stop()));
  }
}

/** The lock code a TestCluster node states in its handshakes. */
export function testLockCode(id: NodeId): string {
  return `LOCK-${id}`;
}

/**
 * The `vi.waitFor` options of the transport tests: poll every 5 ms
 * (`interval`), give up after 5,000 ms (`timeout`).
 */
export const WAIT = { timeout: 5_000, interval: 5 } as const;

/**
 * Resolves once `condition()` holds; rejects after `timeoutMs` (polls every
 * 5 ms). Only for code that also runs outside vitest, where `vi.waitFor` is
 * not available: `TestCluster.connected()` and the no-handles child process.
 * Tests use `vi.waitFor(…, WAIT)`.
 */
export async function waitFor(condition: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A heartbeat from `from` to `to`, tagged through its commit index. */
export function heartbeat(from: NodeId, to: NodeId, commit: number): Message {
  return { type: 'heartbeat', from, to, term: 1, commit, commitTerm: 0, context: '' };
}

/** An append message carrying `entries` entries of `dataBytes` bytes each. */
export function appendMessage(from: NodeId, to: NodeId, index: number, entries: number, dataBytes: number): Message {
  const data = new Uint8Array(dataBytes).fill(0xab);
  return {
    type: 'app',
    from,
    to,
    term: 2,
    index,
    logTerm: 2,
    commit: index,
    entries: Array.from({ length: entries }, (_, i) => ({ term: 2, index: index + 1 + i, type: 'normal' as const, data })),
  };
}
