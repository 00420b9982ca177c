// Ports for test sites, free now and reserved machine-wide until the process
// that took them exits. A site's nodes are restarted on the same ports (their
// peers know the URLs), so a port must stay the site's while its node is
// down for a moment. Two things could take it meanwhile:
// - a port-0 listener or an outgoing connection's source port, which the OS
//   draws from its ephemeral range: so ports come from BELOW that range
//   (seen in test/cluster/rejoin.test.ts);
// - another test process drawing at random from the same range, whose bind
//   probe finds the port free while the node is down (seen in
//   test/cluster/restart-membership.test.ts while three worktrees ran the
//   suite): so each port taken is recorded as a file naming the taking
//   process, and a port whose file names a live process is never handed
//   out again.
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Lowest port `freePorts` hands out. */
const SITE_PORT_LOW = 20_000;
/** Where the reservations are: one file per port, holding the pid that took it. */
const RESERVATIONS_DIR = join(tmpdir(), 'floe-test-ports');

/**
 * First port of the OS's ephemeral range (Linux: ip_local_port_range), from
 * which it picks port-0 listeners and the source ports of outgoing
 * connections; 32768 where it cannot be read.
 */
function ephemeralPortLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > SITE_PORT_LOW + 1000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** True when 127.0.0.1:`port` can be bound now (it is released at once). */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** True when process `pid` is alive (signal 0 checks without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Records `port` as this process's; false when a live process holds it. */
export function reserve(port: number): boolean {
  const file = join(RESERVATIONS_DIR, String(port));
  try {
    closeSync(openSync(file, 'wx'));
    writeFileSync(file, String(process.pid));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const holder = Number(readFileSync(file, 'utf8'));
  // A file being written this instant reads empty (0): its taker is alive.
  if (holder === 0 || holder === process.pid || alive(holder)) return false;
  writeFileSync(file, String(process.pid));
  return true;
}

/** `count` distinct ports below the ephemeral range, free now and reserved for this process. */
export async function freePorts(count: number): Promise<number[]> {
  mkdirSync(RESERVATIONS_DIR, { recursive: true });
  const high = ephemeralPortLow() - 1;
  const ports = new Set<number>();
  for (let tries = 0; ports.size < count; tries++) {
    if (tries > count * 100) throw new Error(`freePorts: no ${count} free ports in ${SITE_PORT_LOW}-${high}`);
    const port = SITE_PORT_LOW + Math.floor(Math.random() * (high - SITE_PORT_LOW + 1));
    if (!ports.has(port) && (await canBind(port)) && reserve(port)) ports.add(port);
  }
  return [...ports];
}

/**
 * A base port B, below the ephemeral range, such that B + each of `offsets`
 * is free now and reserved for this process: for `floe demo --base-port`,
 * which lays its ports out at fixed offsets from one base.
 */
export async function freePortBase(offsets: readonly number[]): Promise<number> {
  mkdirSync(RESERVATIONS_DIR, { recursive: true });
  const span = Math.max(...offsets);
  const high = ephemeralPortLow() - 1 - span;
  for (let tries = 0; tries < 200; tries++) {
    const base = SITE_PORT_LOW + Math.floor(Math.random() * (high - SITE_PORT_LOW + 1));
    const free = await Promise.all(offsets.map((offset) => canBind(base + offset)));
    if (free.every(Boolean) && offsets.every((offset) => reserve(base + offset))) return base;
  }
  throw new Error(`freePortBase: no base in ${SITE_PORT_LOW}-${high} with every offset free`);
}
