// What the failover and sessions benches share around a leader they take
// down: SDK clients that keep checking seats out (the probe whose first
// success after the fault is the figure), their connection events for the
// diagnosis, and the survivors' /health polled for the new leader.
import type { FloeClient } from '../../client/index.ts';
import type { ClusterSite } from '../../test/cluster/cluster-harness.test-support.ts';
import { healthOf } from '../../test/cluster/site-tools.test-support.ts';
import { sleep } from '../figures.ts';
import { until } from '../until.ts';

/** `ms` the probe's stop() waits for its unanswered checkouts. */
const STOP_WAIT_MS = 15_000;

/**
 * Checkouts through `clients`, each one every `everyMs` (the clients
 * staggered evenly over it) with at most `inFlightMax` unanswered, each
 * answered lease checked in again; successes kept as [sentAt, answeredAt]
 * (performance.now()), failures counted.
 */
export class CheckoutProbe {
  readonly successes: [sentAt: number, answeredAt: number][] = [];
  failures = 0;
  /** The first few failures' messages. */
  readonly failureSamples: string[] = [];
  private probing = true;
  private readonly loops: Promise<void>[];

  constructor(clients: readonly FloeClient[], everyMs: number, inFlightMax: number) {
    this.loops = clients.map(async (c, i) => {
      await sleep((everyMs / clients.length) * i);
      const inFlight = new Set<Promise<void>>();
      while (this.probing) {
        if (inFlight.size < inFlightMax) {
          const sentAt = performance.now();
          const p: Promise<void> = c.checkout('demo').then(
            async (lease) => {
              this.successes.push([sentAt, performance.now()]);
              await c.checkin(lease).catch(() => {});
            },
            (error: unknown) => {
              this.failures++;
              if (this.failureSamples.length < 5) this.failureSamples.push((error as Error).message);
            },
          );
          inFlight.add(p);
          void p.finally(() => inFlight.delete(p));
        }
        await sleep(everyMs);
      }
      await Promise.all(inFlight);
    });
  }

  /** `ms` from `t0` (performance.now()) to the first answer of a checkout sent at or after it; undefined before one. */
  firstAnsweredAfter(t0: number): number | undefined {
    let best = Infinity;
    for (const [sentAt, answeredAt] of this.successes) if (sentAt >= t0) best = Math.min(best, answeredAt - t0);
    return Number.isFinite(best) ? best : undefined;
  }

  /** Stops sending; resolves once the unanswered checkouts settled (or STOP_WAIT_MS passed). */
  async stop(): Promise<void> {
    this.probing = false;
    await Promise.race([Promise.all(this.loops), sleep(STOP_WAIT_MS)]);
  }
}

/** Records `client`'s connects and disconnects into `events` as [performance.now(), what], `what` starting with `label`. */
export function recordConnectionEvents(client: FloeClient, label: string, events: [number, string][]): void {
  const short = (url: string) => url.replace(/^wss?:\/\/127\.0\.0\.1:/, ':');
  client.on('connected', (e) => events.push([performance.now(), `${label}connected to ${short(e.server)} (resumed ${e.resumed})`]));
  client.on('disconnected', (e) => events.push([performance.now(), `${label}disconnected from ${short(e.server)} (${e.code} ${e.reason})`]));
}

/** The survivor that calls itself leader in a term after `oldTerm`, if any now. */
async function newLeaderNow(site: ClusterSite, survivors: readonly string[], oldTerm: number): Promise<string | undefined> {
  const views = await Promise.all(survivors.map((id) => healthOf(site, id)));
  return views.find((v) => v !== null && v.role === 'leader' && v.term > oldTerm)?.nodeId;
}

/**
 * `ms` from `t0` (performance.now()) until a survivor first calls itself
 * leader in a later term (their /health polled every 10 ms: the election's
 * share of a failover); NaN when none did by `t0 + withinMs`.
 */
export async function electedAfter(site: ClusterSite, survivors: readonly string[], oldTerm: number, t0: number, withinMs: number): Promise<number> {
  while (performance.now() < t0 + withinMs) {
    if ((await newLeaderNow(site, survivors, oldTerm)) !== undefined) return performance.now() - t0;
    await sleep(10);
  }
  return NaN;
}

/** The survivor that leads in a term after `oldTerm`, once one does; throws after `timeoutMs`. */
export function newLeaderAmong(site: ClusterSite, survivors: readonly string[], oldTerm: number, timeoutMs: number): Promise<string> {
  return until('a new leader', timeoutMs, () => newLeaderNow(site, survivors, oldTerm));
}
