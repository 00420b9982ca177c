// Pools: seats in use, total, queued and lingering per feature and version
// (and reserved and borrowed where the pools report them: the seat policy of
// issue 16), updated live from GET /api/v1/events (the island in console.js
// rewrites the table on each `pools` event: no polling), with the latest
// events.
import type { Context } from 'hono';
import { Page } from '../console-page.tsx';
import type { ConsoleDeps, ConsoleEnv } from '../console-env.ts';
import { pageOf } from '../console-context.ts';

/** GET /pools */
export async function poolsPage(c: Context<ConsoleEnv>, deps: ConsoleDeps) {
  const { api, principal, csrf, reads } = pageOf(c, deps);
  const pools = await reads.read((q) => api.pools.$get({ query: q }));
  const figures = pools.map((p) => p as { readonly seatsReservedIdle?: number; readonly seatsBorrowed?: number });
  const showReserved = figures.some((p) => p.seatsReservedIdle !== undefined);
  const showBorrowed = figures.some((p) => p.seatsBorrowed !== undefined);
  const columns = 8 + (showReserved ? 1 : 0) + (showBorrowed ? 1 : 0);
  return c.html(
    <Page title="Pools" nav="pools" principal={principal} csrf={csrf} freshness={reads.freshness()}>
      <p class="muted" data-live-status aria-live="polite">
        Live: connecting…
      </p>
      <table data-live-pools>
        <thead>
          <tr>
            <th scope="col">Feature</th>
            <th scope="col">Version</th>
            <th scope="col">Model</th>
            <th scope="col">In use</th>
            <th scope="col">Total</th>
            <th scope="col">Use</th>
            <th scope="col">Queued</th>
            <th scope="col" title="seats checked in and held for their last user until the linger ends (counted in use too)">
              Lingering
            </th>
            {showReserved && (
              <th scope="col" title="idle seats the seat policy holds back for reservations">
                Reserved
              </th>
            )}
            {showBorrowed && (
              <th scope="col" title="seats taken offline (counted in use too)">
                Borrowed
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {pools.map((p, i) => (
            <tr data-pool={`${p.feature}@${p.version}`}>
              <td>{p.feature}</td>
              <td>{p.version}</td>
              <td>{p.model}</td>
              <td data-field="seatsInUse">{p.seatsInUse}</td>
              <td data-field="seatsTotal">{p.seatsTotal}</td>
              <td>
                <meter min={0} max={Math.max(1, p.seatsTotal)} value={p.seatsInUse} high={Math.max(1, p.seatsTotal) * 0.95} optimum={0} aria-label={`${p.feature} ${p.version} seats in use`}></meter>
              </td>
              <td data-field="queued">{p.queued}</td>
              <td data-field="seatsLingering">{p.seatsLingering}</td>
              {showReserved && <td data-field="seatsReservedIdle">{figures[i]!.seatsReservedIdle ?? 0}</td>}
              {showBorrowed && <td data-field="seatsBorrowed">{figures[i]!.seatsBorrowed ?? 0}</td>}
            </tr>
          ))}
          {pools.length === 0 && (
            <tr>
              <td colspan={columns} class="muted">
                No pool yet: import a license.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <h2>Latest events</h2>
      <ol class="events" data-live-events aria-live="polite"></ol>
    </Page>,
  );
}
