// How a console page reads through the API: linearizable first (through the
// leader); when no leader confirms (503), the node's own state with
// ?stale=true, and the page says how far behind it may be.
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AdminError } from '../errors.ts';
import type { Freshness } from './console-page.tsx';

/** A response of the typed client. */
interface AnyResponse {
  readonly ok: boolean;
  readonly status: number;
  json(): Promise<unknown>;
}

/** The body of a 2xx answer of a typed call, without the stale envelope. */
type DataOf<R> = R extends { ok: true; json(): Promise<infer T> } ? (T extends { stale: true; data: infer D } ? D : T) : never;

/** Throws the API's refusal in `res` as an AdminError (the console's error page shows it). */
export async function refusal(res: AnyResponse): Promise<never> {
  const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  throw new AdminError(res.status as ContentfulStatusCode, body.error?.code ?? 'UNAVAILABLE', body.error?.message ?? `the API answered ${res.status}`);
}

/** Awaits a typed call and answers its 2xx body; throws the refusal otherwise. */
export async function answer<R extends AnyResponse>(request: Promise<R>): Promise<R extends { ok: true; json(): Promise<infer T> } ? T : never> {
  const res = await request;
  if (!res.ok) return refusal(res);
  return (await res.json()) as never;
}

/** The page's reads so far: where they came from. */
export class PageReads {
  stale: { lagEntries: number; appliedIndex: number } | undefined;

  /** `self`: this node's id and Raft role (its own, not replicated state). */
  constructor(private readonly self: () => { readonly nodeId: string; readonly role: string }) {}

  /**
   * Reads with `call({})` through the leader; on 503 again with
   * `call({ stale: 'true' })`, remembering how stale the answer is.
   */
  async read<R extends AnyResponse>(call: (query: { stale?: 'true' }) => Promise<R>): Promise<DataOf<R>> {
    const res = await call({});
    if (res.ok) return (await res.json()) as DataOf<R>;
    if (res.status !== 503) return refusal(res);
    const again = await call({ stale: 'true' });
    if (!again.ok) return refusal(again);
    const body = (await again.json()) as { data: DataOf<R>; lagEntries: number; appliedIndex: number };
    this.stale = { lagEntries: Math.max(body.lagEntries, this.stale?.lagEntries ?? 0), appliedIndex: body.appliedIndex };
    return body.data;
  }

  /** The node's identity and whether the page is stale, for the frame. */
  freshness(): Freshness {
    const s = this.self();
    return { nodeId: s.nodeId, role: s.role, ...(this.stale !== undefined ? { stale: this.stale } : {}) };
  }
}
