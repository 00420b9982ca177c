// What every sub-bench of the cluster bench is handed (the site, a load
// worker, the figures being collected, the command line) and the helpers
// they share to read options and print lines.
import type { ClusterSite } from '../../test/cluster/cluster-harness.test-support.ts';
import type { LoadWorkerHandle } from './load-worker-handle.ts';

/** `ms` of warm-up before each measured throughput run. */
export const WARMUP_MS = 500;

/** A sub-bench's inputs; it adds its figures to `out`. */
export interface Context {
  readonly site: ClusterSite;
  readonly worker: LoadWorkerHandle;
  readonly out: Record<string, unknown>;
  readonly args: string[];
  /** PEM of the site CA when the site speaks TLS (`--tls`): clients trust it alone. */
  readonly ca?: string;
  /** False: throughput skips its echo baseline (the TLS pass of `--tls`, whose baseline is the plain run). */
  readonly baseline?: boolean;
  /** Distinct prefix per run (client ids, request ids). */
  prefix(): string;
}

/** The number after `name` in `args`, clamped to [min, max]; `fallback` when absent or not a number. */
export function argNumber(args: string[], name: string, fallback: number, min: number, max: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  return Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : fallback;
}

/** Prints one line of figures. */
export const write = (line: string) => process.stdout.write(`${line}\n`);
