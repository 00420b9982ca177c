// Figures helpers every benchmark shares: percentiles of sorted latencies,
// rounding for printing, and what /proc tells of a server process (CPU
// time, resident memory), so bench/daemon.ts and bench/cluster/ compute
// their figures the same way.
import { readFileSync } from 'node:fs';

/** The `p`th percentile (0–100) of `sorted` (ascending); 0 when empty. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/** `x` rounded to `digits` decimals (3 by default: µs precision on ms figures). */
export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The median of `xs`; 0 when empty. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resident set size of a process, bytes (Linux /proc; 0 elsewhere). */
export function rssBytesOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

/** CPU time (user + system) a process has used so far, ms (Linux /proc; 0 elsewhere). */
export function cpuMsOf(pid: number | undefined): number {
  const t = cpuTimesMsOf(pid);
  return t.userMs + t.systemMs;
}

/** Each process's CPU over the next `windowMs`, % of one core (2 decimals), and the window's measured length. */
export async function cpuPercentOver(pids: readonly (number | undefined)[], windowMs: number): Promise<{ percent: number[]; wallMs: number }> {
  const cpu0 = pids.map(cpuMsOf);
  const t0 = performance.now();
  await sleep(windowMs);
  const wallMs = performance.now() - t0;
  return { percent: pids.map((pid, i) => round(((cpuMsOf(pid) - cpu0[i]!) / wallMs) * 100, 2)), wallMs };
}

/** CPU time a process has used so far in user mode and in the kernel (system calls), ms (Linux /proc; 0 elsewhere). */
export function cpuTimesMsOf(pid: number | undefined): { userMs: number; systemMs: number } {
  if (pid === undefined) return { userMs: 0, systemMs: 0 };
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
    return { userMs: (Number(fields[11]) * 1000) / 100, systemMs: (Number(fields[12]) * 1000) / 100 };
  } catch {
    return { userMs: 0, systemMs: 0 };
  }
}
