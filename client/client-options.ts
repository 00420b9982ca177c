// What an application tells connect(), with the SDK's defaults and limits.
// Every queue and retry of the SDK has a named maximum here (TIGER_STYLE).
import { readFileSync, statSync } from 'node:fs';
import { clientIdSchema } from '../protocol/wire.ts';
import { FloeError } from './floe-error.ts';

/** Options of `connect()`. Durations are `ms`. */
export interface ConnectOptions {
  /**
   * Client URLs of the servers (`ws://host:port/ws`), tried in this order; at
   * least one. They stay in the failover list whatever hello replies list;
   * the servers learnt from hello follow the cluster's membership.
   */
  readonly servers: readonly string[];
  /** Who runs the application (1–128 chars); the authorized-user model checks it. */
  readonly user: string;
  /** The machine it runs on (1–128 chars). */
  readonly host: string;
  /** The application's name (1–128 chars). */
  readonly app: string;
  /**
   * The installation's stable identity (8–64 chars of `A-Za-z0-9_-`), the key
   * of the server's idempotency memory. Keep it across restarts of the
   * application; a random UUID is made when absent.
   */
  readonly clientId?: string;
  /** `ms` to open a socket before trying the next server. Default 5,000. */
  readonly connectTimeoutMs?: number;
  /** `ms` a request may go unanswered before the connection is presumed dead. Default 10,000. */
  readonly replyTimeoutMs?: number;
  /**
   * `ms` of silence from the server, while a request waits for its answer,
   * after which the client pings it (a WebSocket ping, answered by any live
   * server at once). Default 100.
   */
  readonly pingAfterMs?: number;
  /**
   * `ms` the server then has to answer anything before the client presumes
   * it frozen or cut off (its socket open, nothing coming back: SIGSTOP, a
   * paused VM) and fails over. Default 300: with pingAfterMs, 400 ms of
   * silence, as long as the longest election timeout of a cluster with the
   * default [raft] timing (16 ticks of 25 ms), after which a silent leader's
   * followers are electing another anyway.
   */
  readonly pongTimeoutMs?: number;
  /** Consecutive failed connection attempts before the client gives up and closes. Default 20. */
  readonly reconnectAttemptsMax?: number;
  /** `ms`: cap of the first retry delay (doubling each retry, full jitter). Default 100. */
  readonly backoffBaseMs?: number;
  /** `ms`: the longest delay between two attempts. Default 5,000. */
  readonly backoffMaxMs?: number;
  /** Calls (checkout, checkin) waiting for their final answer at once. Default 64. */
  readonly pendingRequestsMax?: number;
  /**
   * Times one call is sent (first send plus retries) before it fails with
   * RETRIES_EXHAUSTED. A checkout's sends refused with LICENSE_NOT_FOR_THIS_SERVER
   * or LICENSE_QUORUM_LOST (then moved to another server) do not count. Default 10.
   */
  readonly requestSendsMax?: number;
  /** Server URLs remembered (configured plus learnt from the latest hello reply). Default 16. */
  readonly serversMax?: number;
  /** `ms` `close({ checkin: true })` waits for its check-ins. Default 5,000. */
  readonly closeTimeoutMs?: number;
  /** A number in [0, 1); for jitter. Default Math.random (tests inject their own). */
  readonly random?: () => number;
  /**
   * PEM CA certificate(s) a `wss://` server's certificate must chain to (the
   * site CA of `floe tls init`, or the site's own). Given (or `caFile`),
   * only these are trusted: the site CA is pinned. Absent: Node's CA store
   * (plus NODE_EXTRA_CA_CERTS; `node --use-openssl-ca` for the system's).
   */
  readonly ca?: string | readonly string[];
  /** A PEM file of such CA certificate(s), read once by connect(). */
  readonly caFile?: string;
  /**
   * Move the session to the server that leads the cluster, as the servers
   * name it (hello's `leader`, the `leader` push): requests are then served
   * without a forward between servers. The move resumes the session there
   * first and leaves the old server after, so no call fails and no lease is
   * lost; a leader URL this client cannot reach is retried with backoff
   * while the session stays where it is. Default true; false keeps the
   * session on the server it connected to (clients spread over the servers).
   */
  readonly preferLeader?: boolean;
}

/** ConnectOptions with every default filled in. */
export interface ResolvedOptions {
  readonly servers: readonly string[];
  readonly user: string;
  readonly host: string;
  readonly app: string;
  readonly clientId: string;
  readonly connectTimeoutMs: number;
  readonly replyTimeoutMs: number;
  readonly pingAfterMs: number;
  readonly pongTimeoutMs: number;
  readonly reconnectAttemptsMax: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly pendingRequestsMax: number;
  readonly requestSendsMax: number;
  readonly serversMax: number;
  readonly closeTimeoutMs: number;
  readonly random: () => number;
  /** PEM CA certificates trusted for wss:// (pinned); undefined: Node's store. */
  readonly ca: readonly string[] | undefined;
  readonly preferLeader: boolean;
}

/** Bytes of a caFile read, at most. */
const CA_FILE_BYTES_MAX = 1024 * 1024;

function trustedCas(options: ConnectOptions): readonly string[] | undefined {
  const cas: string[] = [];
  if (options.ca !== undefined) cas.push(...(typeof options.ca === 'string' ? [options.ca] : options.ca));
  if (options.caFile !== undefined) {
    let text: string;
    try {
      if (statSync(options.caFile).size > CA_FILE_BYTES_MAX) throw new Error(`over ${CA_FILE_BYTES_MAX} bytes`);
      text = readFileSync(options.caFile, 'utf8');
    } catch (err) {
      throw new FloeError('BAD_REQUEST', `caFile ${options.caFile} cannot be read: ${(err as Error).message}`);
    }
    cas.push(text);
  }
  if (options.ca === undefined && options.caFile === undefined) return undefined;
  if (cas.length === 0 || cas.some((pem) => typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE-----'))) throw new FloeError('BAD_REQUEST', 'ca and caFile must hold PEM certificates');
  return cas;
}

/** `ms` bounds the SDK applies to the server's `heartbeatMs`, whatever it says. */
export const HEARTBEAT_MS_MIN = 10;
export const HEARTBEAT_MS_MAX = 10 * 60 * 1000;

function positiveInt(name: string, value: number | undefined, fallback: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1 || v > max) throw new FloeError('BAD_REQUEST', `${name} must be an integer from 1 to ${max}, got ${v}`);
  return v;
}

function flag(name: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value !== undefined && typeof value !== 'boolean') throw new FloeError('BAD_REQUEST', `${name} must be true or false`);
  return value ?? fallback;
}

function text(name: string, value: string): string {
  if (typeof value !== 'string' || value.length < 1 || value.length > 128) throw new FloeError('BAD_REQUEST', `${name} must be 1–128 characters`);
  return value;
}

/** Checks `options` and fills in defaults; throws FloeError BAD_REQUEST on a bad one. */
export function resolveOptions(options: ConnectOptions): ResolvedOptions {
  const serversMax = positiveInt('serversMax', options.serversMax, 16, 1_000);
  const servers = [...new Set(options.servers)];
  if (servers.length < 1 || servers.length > serversMax) throw new FloeError('BAD_REQUEST', `servers must list 1 to ${serversMax} URLs`);
  for (const url of servers) {
    if (!/^wss?:\/\/./.test(url)) throw new FloeError('BAD_REQUEST', `server URL must start with ws:// or wss://: ${url}`);
  }
  const clientId = options.clientId ?? crypto.randomUUID();
  if (!clientIdSchema.safeParse(clientId).success) throw new FloeError('BAD_REQUEST', 'clientId must be 8–64 characters of A-Za-z0-9_-');
  return {
    servers,
    user: text('user', options.user),
    host: text('host', options.host),
    app: text('app', options.app),
    clientId,
    connectTimeoutMs: positiveInt('connectTimeoutMs', options.connectTimeoutMs, 5_000, 600_000),
    replyTimeoutMs: positiveInt('replyTimeoutMs', options.replyTimeoutMs, 10_000, 600_000),
    pingAfterMs: positiveInt('pingAfterMs', options.pingAfterMs, 100, 600_000),
    pongTimeoutMs: positiveInt('pongTimeoutMs', options.pongTimeoutMs, 300, 600_000),
    reconnectAttemptsMax: positiveInt('reconnectAttemptsMax', options.reconnectAttemptsMax, 20, 10_000),
    backoffBaseMs: positiveInt('backoffBaseMs', options.backoffBaseMs, 100, 600_000),
    backoffMaxMs: positiveInt('backoffMaxMs', options.backoffMaxMs, 5_000, 3_600_000),
    pendingRequestsMax: positiveInt('pendingRequestsMax', options.pendingRequestsMax, 64, 10_000),
    requestSendsMax: positiveInt('requestSendsMax', options.requestSendsMax, 10, 1_000),
    serversMax,
    closeTimeoutMs: positiveInt('closeTimeoutMs', options.closeTimeoutMs, 5_000, 600_000),
    random: options.random ?? Math.random,
    ca: trustedCas(options),
    preferLeader: flag('preferLeader', options.preferLeader, true),
  };
}
