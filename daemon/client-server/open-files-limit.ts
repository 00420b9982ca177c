// The process's open-files limit, read once at start, so the client server
// can keep `connectionsMax` below it: every connection is a file descriptor,
// and a node that runs out of descriptors cannot open its database, accept a
// peer or write a snapshot. Node has no getrlimit; Linux tells the soft
// limit in /proc/self/limits. Elsewhere the limit is unknown (undefined).
import { readFileSync } from 'node:fs';

/** File descriptors kept for the node itself (SQLite and its WAL, peers, admin API, logs) when connectionsMax is clamped. */
export const NODE_FILES_RESERVED = 256;

/** The soft limit on open files of this process; undefined when it cannot be read or is unlimited. */
export function openFilesLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /^Max open files\s+(\S+)/m.exec(text);
  if (m === null || m[1] === 'unlimited') return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * `connectionsMax` kept below `filesLimit` with NODE_FILES_RESERVED to
 * spare (at least 1); `clamped` when it had to be lowered.
 */
export function clampConnectionsMax(connectionsMax: number, filesLimit: number | undefined): { connectionsMax: number; clamped: boolean } {
  if (filesLimit === undefined) return { connectionsMax, clamped: false };
  const allowed = Math.max(1, filesLimit - NODE_FILES_RESERVED);
  return connectionsMax > allowed ? { connectionsMax: allowed, clamped: true } : { connectionsMax, clamped: false };
}
