// The configuration of one Floe node: a TOML file (smol-toml) validated with
// zod. Every option has a default and its unit in its name; docs/config.md
// lists them all and deploy/floe.example.toml is a commented example.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { isLoopbackHost } from './tls/loopback-host.ts';

const hostPort = z
  .string()
  .regex(/^[^\s:]+:\d{1,5}$/, 'HOST:PORT, e.g. 127.0.0.1:7401 (port 0 picks a free one)');

const ms = (min: number, max: number) => z.number().int().min(min).max(max);

/** The `[limits]` table: maxima of the client-facing server. */
const limitsSchema = z
  .object({
    /** Open client connections per node; kept below the process's open-files limit (a warning says when). */
    connectionsMax: z.number().int().min(1).max(1_000_000).default(16_000),
    /** Open client connections one remote address may hold (a host, or every host behind one NAT). */
    connectionsPerAddressMax: z.number().int().min(1).max(1_000_000).default(1_000),
    /** `ms` a new client connection has to say hello before it is closed (1008 HELLO_TIMEOUT). */
    helloTimeoutMs: ms(100, 600_000).default(10_000),
    /** `ms` without a single frame after which a client connection is closed (1000 IDLE_TIMEOUT); above heartbeatMs. */
    idleTimeoutMs: ms(1_000, 24 * 3600 * 1000).default(60_000),
    /** Requests per second one connection may send on average (token-bucket rate). */
    requestsPerSecondPerConnection: z.number().int().min(1).max(1_000_000).default(200),
    /** Requests one connection may send in a burst (token-bucket capacity). */
    requestBurstPerConnection: z.number().int().min(1).max(1_000_000).default(400),
    /** Requests per second all connections of one remote address may send together, on average. */
    requestsPerSecondPerAddress: z.number().int().min(1).max(10_000_000).default(1_000),
    /** Requests all connections of one remote address may send together in a burst. */
    requestBurstPerAddress: z.number().int().min(1).max(10_000_000).default(2_000),
    /** Frames over the rate one connection may send (each answered RATE_LIMITED, forgiven at a quarter of the rate) before it is closed (1008). */
    overLimitFramesPerConnectionMax: z.number().int().min(1).max(1_000_000).default(100),
    /** Bytes of replies and pushes one client may leave unread before it is disconnected (a slow reader). */
    unreadReplyBytesPerConnectionMax: z.number().int().min(64 * 1024).max(1024 * 1024 * 1024).default(512 * 1024),
    /** Checkouts one client session may have queued at once; one more answers QUEUED_PER_SESSION_LIMIT_REACHED. */
    queuedPerSessionMax: z.number().int().min(0).max(1000).default(16),
    /** Proposals waiting for the log at once; beyond it requests answer UNAVAILABLE. */
    pendingProposalsMax: z.number().int().min(1).max(10_000_000).default(100_000),
    /** Bytes of an admin API request body. */
    adminBodyBytesMax: z.number().int().min(256).max(16 * 1024 * 1024).default(64 * 1024),
  })
  .strict()
  .prefault({});

/** The `[raft]` table: the replicated log's timing and storage. */
const raftSchema = z
  .object({
    /** `ms` between ticks of the Raft clock. */
    tickMs: ms(1, 10_000).default(25),
    /** Ticks without a leader before an election (randomized up to twice this): 8 × 25 ms = 200–400 ms. */
    electionTicks: z.number().int().min(2).max(1000).default(8),
    /** Ticks between leader heartbeats; less than electionTicks. */
    heartbeatTicks: z.number().int().min(1).max(1000).default(2),
    /** Applied entries between snapshots (the log before a snapshot is then deleted). */
    snapshotEntries: z.number().int().min(10).max(100_000_000).default(20_000),
    /**
     * How a Ready's commit reaches the disk. `async`: fdatasync of the WAL in
     * the thread pool, acknowledging only after it (the event loop keeps
     * batching meanwhile); `full`: SQLite synchronous=FULL, fsync inside each commit.
     */
    syncMode: z.enum(['async', 'full']).default('async'),
  })
  .strict()
  .prefault({});

/** The `[clock]` table: how cluster time (deadlines) and dates (license validity) follow the wall clock. */
const clockSchema = z
  .object({
    /** `%`: cluster time may run this much faster or slower than the monotonic clock while it converges on the wall clock. */
    slewPercent: z.number().min(0.1).max(50).default(5),
    /** `ms`: license dates follow the wall clock at most this far from cluster time (what a clock excursion can change). */
    dateToleranceMs: ms(0, 30 * 24 * 3600 * 1000).default(24 * 3600 * 1000),
    /** `ms`: a jump of the wall clock against the monotonic clock larger than this is logged as a clock step. */
    stepWarnMs: ms(10, 3600 * 1000).default(1000),
  })
  .strict()
  .prefault({});

/** One member of the cluster as every node's config lists it. */
const peerSchema = z
  .object({
    /** Its node id (its `nodeId`). */
    id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/),
    /** Where its peer transport listens, e.g. "ws://10.0.0.2:7601/raft". */
    peerUrl: z.string().url().regex(/^wss?:\/\//, 'a ws:// or wss:// URL'),
    /** Where its clients connect, e.g. "ws://10.0.0.2:7401/ws" (told to clients for failover). */
    clientUrl: z.string().url(),
    /** Its node identity public key, base64url (`floe lockcode --json` prints it as identityPublicKey). */
    publicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/, '32 bytes in base64url (43 characters)'),
  })
  .strict();

/** The `[cluster]` table: the other members and the peer transport. Absent (no peers): a one-node server. */
const clusterSchema = z
  .object({
    /** Every member, this node included; at first start, the initial voters. */
    peers: z.array(peerSchema).max(16).default([]),
    /** Where this node's peer transport listens (its own port; path /raft). */
    peerListen: hostPort.default('127.0.0.1:7601'),
    /** Start with an empty log and wait for the leader to add this node (replacing a member). */
    join: z.boolean().default(false),
    /** `ms` a request forwarded to the leader (or a read barrier) may wait; then UNAVAILABLE. */
    forwardTimeoutMs: ms(50, 60_000).default(1000),
  })
  .strict()
  .prefault({});

/**
 * The `[tls]` table: this node's certificate for every listener (client
 * wss://, admin https://, peers wss:// with mutual authentication). Absent:
 * plain ws:// and http://, allowed on loopback binds only (or `insecure`).
 */
const tlsSchema = z
  .object({
    /** PEM: this node's certificate (optionally followed by its chain), e.g. from `floe tls issue`; relative to the config file. */
    certFile: z.string().min(1).optional(),
    /** PEM: its private key. */
    keyFile: z.string().min(1).optional(),
    /** PEM: the CA that signs the members' certificates (`floe tls init`'s ca.crt, or the site's own PKI); required in a cluster. */
    caFile: z.string().min(1).optional(),
  })
  .strict()
  .prefault({});

/** A node's whole configuration, as parsed (units in the names). */
export const floeConfigSchema = z
  .object({
    /** This node's id in the cluster, e.g. "n1". */
    nodeId: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).default('n1'),
    /** Directory of the node identity, the SQLite database and snapshots; relative to the config file. */
    dataDir: z.string().min(1).default('./data'),
    /** Where clients connect (WebSocket, path /ws). */
    clientListen: hostPort.default('127.0.0.1:7401'),
    /** Where the admin API listens (HTTP, base /api/v1). */
    adminListen: hostPort.default('127.0.0.1:7501'),
    /** Client URLs of every node of the cluster, told to clients in `hello` for failover; default: this node's. */
    clientUrls: z.array(z.string().url()).max(16).default([]),
    /** Trusted vendor public keys ("ed25519:…"), as `floe keycenter pubkey` prints them. */
    vendorPublicKeys: z.array(z.string().min(1).max(200)).max(64).default([]),
    /** The vendor's key center (e.g. "https://keys.vendor.example/"), asked by POST /licenses/activate (`floe license activate`). */
    keyCenterUrl: z.string().url().regex(/^https?:\/\//, 'an http:// or https:// URL').optional(),
    /** `ms` the key center has to answer an activation; then KEY_CENTER_UNREACHABLE. */
    keyCenterTimeoutMs: ms(100, 120_000).default(10_000),
    /** License key files (relative to the config file) installed at start when not yet installed. */
    licenseFiles: z.array(z.string().min(1)).max(1000).default([]),
    /** SHA-256 hex digests of the admin bearer tokens (`floe demo` writes one); never the tokens themselves. */
    adminTokenSha256: z.array(z.string().regex(/^[0-9a-f]{64}$/)).max(64).default([]),
    /** `ms`: a lease is lost this long after its last renewal. */
    leaseTtlMs: ms(1000, 24 * 3600 * 1000).default(30_000),
    /** `ms`: how often clients should heartbeat (told in `hello`); must be below leaseTtlMs. */
    heartbeatMs: ms(100, 3600 * 1000).default(10_000),
    /** `ms`: how often the node proposes one renew command for every heartbeat received meanwhile. */
    renewBatchMs: ms(10, 60_000).default(250),
    /** `ms`: a queued checkout's wait when the client gives none. */
    queueWaitMsDefault: ms(0, 24 * 3600 * 1000).default(300_000),
    /** `ms`: the longest queue wait a checkout may ask (`waitMs`); above it DURATION_INVALID. */
    queueWaitMsMax: ms(0, 24 * 3600 * 1000).default(3_600_000),
    /** `ms`: a new leader extends every lease by this much (cluster failover). */
    leaderGraceMs: ms(0, 3600 * 1000).default(15_000),
    /** GET /metrics also gives seats in use per user (floe_user_seats_in_use): one series per user and feature, so off unless asked. */
    metricsPerUser: z.boolean().default(false),
    /** Serve plain ws:// and http:// on a non-loopback bind (logged loudly at start); never needed with [tls]. */
    insecure: z.boolean().default(false),
    tls: tlsSchema,
    limits: limitsSchema,
    raft: raftSchema,
    cluster: clusterSchema,
    clock: clockSchema,
  })
  .strict()
  .refine((c) => c.cluster.peers.length === 0 || c.cluster.peers.some((p) => p.id === c.nodeId), {
    message: 'cluster.peers must list this node (nodeId) too',
    path: ['cluster', 'peers'],
  })
  .refine((c) => new Set(c.cluster.peers.map((p) => p.id)).size === c.cluster.peers.length, {
    message: 'cluster.peers lists a node id twice',
    path: ['cluster', 'peers'],
  })
  .refine((c) => c.heartbeatMs < c.leaseTtlMs, { message: 'heartbeatMs must be below leaseTtlMs', path: ['heartbeatMs'] })
  .refine((c) => c.heartbeatMs < c.limits.idleTimeoutMs, { message: 'limits.idleTimeoutMs must be above heartbeatMs', path: ['limits', 'idleTimeoutMs'] })
  .refine((c) => c.queueWaitMsDefault <= c.queueWaitMsMax, { message: 'queueWaitMsDefault must not be above queueWaitMsMax', path: ['queueWaitMsDefault'] })
  .refine((c) => c.raft.heartbeatTicks < c.raft.electionTicks, {
    message: 'raft.heartbeatTicks must be below raft.electionTicks',
    path: ['raft', 'heartbeatTicks'],
  })
  .refine((c) => (c.tls.certFile === undefined) === (c.tls.keyFile === undefined), { message: 'tls.certFile and tls.keyFile go together', path: ['tls'] })
  .refine((c) => c.tls.certFile !== undefined || c.tls.caFile === undefined, { message: 'tls.caFile needs tls.certFile and tls.keyFile', path: ['tls', 'caFile'] })
  .refine((c) => c.tls.certFile === undefined || c.cluster.peers.length === 0 || c.tls.caFile !== undefined, {
    message: 'a cluster over TLS needs tls.caFile: the CA that signs the members\' certificates (mutual TLS)',
    path: ['tls', 'caFile'],
  })
  .superRefine((c, ctx) => {
    if (c.tls.certFile === undefined) return;
    c.cluster.peers.forEach((p, i) => {
      if (!p.peerUrl.startsWith('wss://')) ctx.addIssue({ code: 'custom', message: `${p.peerUrl} must be wss:// when [tls] is set`, path: ['cluster', 'peers', i, 'peerUrl'] });
    });
  })
  .superRefine((c, ctx) => {
    if (c.tls.certFile !== undefined || c.insecure) return;
    const binds: [string, string][] = [
      ['clientListen', c.clientListen],
      ['adminListen', c.adminListen],
      ...(c.cluster.peers.length > 0 ? ([['cluster.peerListen', c.cluster.peerListen]] as [string, string][]) : []),
    ];
    for (const [field, listen] of binds) {
      const { host } = splitHostPort(listen);
      if (isLoopbackHost(host)) continue;
      ctx.addIssue({
        code: 'custom',
        message: `${listen} is not a loopback address, and without [tls] sessions, admin tokens and Raft traffic would cross the network in clear: set tls.certFile and tls.keyFile (floe tls issue), bind 127.0.0.1, or write insecure = true`,
        path: field.split('.'),
      });
    }
  });

/** A validated configuration; paths are absolute once loaded from a file. */
export type FloeConfig = z.infer<typeof floeConfigSchema>;
/** A configuration as written (every field optional). */
export type FloeConfigInput = z.input<typeof floeConfigSchema>;

/** A config file that cannot be read or is invalid; `message` says where and why. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  override readonly name = 'ConfigError';
}

/** A config checked without throwing: the config, or CONFIG_INVALID with a sentence naming each bad field. */
export type ConfigParse = { readonly ok: true; readonly config: FloeConfig } | { readonly ok: false; readonly code: 'CONFIG_INVALID'; readonly message: string };

/** Validates `input` (defaults filled in); never throws, whatever `input` holds. */
export function checkConfig(input: unknown, baseDir = process.cwd()): ConfigParse {
  let parsed: ReturnType<typeof floeConfigSchema.safeParse>;
  try {
    parsed = floeConfigSchema.safeParse(input);
  } catch (error) {
    // zod never throws on data it can walk; a value it cannot (a cycle, a getter that throws) is still just invalid.
    return { ok: false, code: 'CONFIG_INVALID', message: `CONFIG_INVALID: unreadable configuration: ${(error as Error).message}` };
  }
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(top)'}: ${i.message}`);
    return { ok: false, code: 'CONFIG_INVALID', message: `CONFIG_INVALID: ${lines.join('; ')}` };
  }
  const c = parsed.data;
  return {
    ok: true,
    config: {
      ...c,
      // Clients learn every member's URL for failover; the peers list has them.
      clientUrls: c.clientUrls.length > 0 ? c.clientUrls : c.cluster.peers.map((p) => p.clientUrl),
      dataDir: resolve(baseDir, c.dataDir),
      licenseFiles: c.licenseFiles.map((f) => resolve(baseDir, f)),
      tls: {
        ...(c.tls.certFile !== undefined ? { certFile: resolve(baseDir, c.tls.certFile) } : {}),
        ...(c.tls.keyFile !== undefined ? { keyFile: resolve(baseDir, c.tls.keyFile) } : {}),
        ...(c.tls.caFile !== undefined ? { caFile: resolve(baseDir, c.tls.caFile) } : {}),
      },
    },
  };
}

/** Validates `input` (defaults filled in); throws ConfigError naming each bad field. */
export function parseConfig(input: unknown, baseDir = process.cwd()): FloeConfig {
  const checked = checkConfig(input, baseDir);
  if (!checked.ok) throw new ConfigError(checked.message);
  return checked.config;
}

/**
 * Parses and validates the text of a TOML config file; `source` names it in
 * messages and relative paths in it are relative to `baseDir`. Never throws,
 * whatever the text holds.
 */
export function checkConfigText(text: string, baseDir: string, source = 'the config'): ConfigParse {
  let doc: unknown;
  try {
    doc = parseToml(text);
  } catch (error) {
    return { ok: false, code: 'CONFIG_INVALID', message: `CONFIG_INVALID: ${source} is not valid TOML: ${(error as Error).message}` };
  }
  return checkConfig(doc, baseDir);
}

/** Reads and validates a TOML config file; relative paths in it are relative to the file. Throws ConfigError. */
export function loadConfigFile(path: string): FloeConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`CONFIG_INVALID: cannot read ${path}: ${(error as Error).message}`);
  }
  const checked = checkConfigText(text, dirname(resolve(path)), path);
  if (!checked.ok) throw new ConfigError(checked.message);
  return checked.config;
}

/** Splits "HOST:PORT" into its parts. */
export function splitHostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i), port: Number(listen.slice(i + 1)) };
}
