// Bounded waiting for test support that also runs outside vitest. The
// cluster harness and the PostgreSQL test server serve the benchmarks and
// the docs scripts too, which are plain Node programs where vitest's
// vi.waitFor cannot run (it needs the test runner's state). Inside vitest
// (process.env.VITEST, set by the runner) waitUntil is vi.waitFor, as
// STYLE.md asks of tests; outside, the same bounded poll by hand.

/** `ms` between two looks, unless the caller says otherwise. */
export const WAIT_INTERVAL_MS_DEFAULT = 50;

/**
 * Resolves with the first value `probe` answers other than undefined,
 * looking every `intervalMs`; rejects after `timeoutMs` with an error that
 * names `what` was awaited. An error `probe` throws counts as "not yet".
 */
export async function waitUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined, intervalMs = WAIT_INTERVAL_MS_DEFAULT): Promise<T> {
  const look = async (): Promise<T> => {
    const value = await probe();
    if (value === undefined) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    return value;
  };
  if (process.env['VITEST'] !== undefined) {
    const { vi } = await import('vitest');
    return vi.waitFor(look, { timeout: timeoutMs, interval: intervalMs });
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await look();
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
