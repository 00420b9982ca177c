// Leases and sessions: who holds which seat, filtered by feature, user, host
// or app and sorted by any column; an operator frees one seat, or all of one
// user's, after a confirmation page that asks for the reason (the holder's
// client gets `revoked` with it). A viewer sees no free buttons, and the API
// would refuse them anyway.
import type { Context } from 'hono';
import { roleAllows } from '../../admin-role.ts';
import { answer } from '../console-read.ts';
import { Csrf, Page, whenToTheSecond } from '../console-page.tsx';
import type { ConsoleDeps, ConsoleEnv } from '../console-env.ts';
import { formOf, pageOf } from '../console-context.ts';

/** Characters of a reason (the API's FORCE_CHECKIN_REASON_CHARS_MAX). */
const REASON_CHARS_MAX = 200;
const SORTS = ['feature', 'user', 'host', 'app', 'checkedOutAt', 'expiresAt'] as const;
type Sort = (typeof SORTS)[number];

/** GET /leases?feature&user&host&app&sort&freed */
export async function leasesPage(c: Context<ConsoleEnv>, deps: ConsoleDeps) {
  const { api, principal, csrf, reads } = pageOf(c, deps);
  const leases = await reads.read((q) => api.leases.$get({ query: q }));
  const sessions = await reads.read((q) => api.sessions.$get({ query: q }));
  const appOf = new Map(sessions.map((s) => [s.sessionId, s.app]));
  const filter = { feature: c.req.query('feature') ?? '', user: c.req.query('user') ?? '', host: c.req.query('host') ?? '', app: c.req.query('app') ?? '' };
  const sortParam = c.req.query('sort') ?? 'checkedOutAt';
  const sort: Sort = (SORTS as readonly string[]).includes(sortParam) ? (sortParam as Sort) : 'checkedOutAt';
  const rows = leases
    .map((l) => ({ ...l, app: appOf.get(l.sessionId) ?? '' }))
    .filter((l) => (filter.feature === '' || l.feature === filter.feature) && (filter.user === '' || l.user === filter.user) && (filter.host === '' || l.host === filter.host) && (filter.app === '' || l.app === filter.app))
    .sort((a, b) => (a[sort] < b[sort] ? -1 : a[sort] > b[sort] ? 1 : 0));
  const canFree = roleAllows(principal.role, 'operator');
  const query = (s: Sort) => new URLSearchParams({ ...Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== '')), sort: s }).toString();
  const freed = c.req.query('freed');
  const SortLink = ({ by, label }: { by: Sort; label: string }) => (
    <a href={`/leases?${query(by)}`} aria-sort={sort === by ? 'ascending' : undefined}>
      {label}
      {sort === by ? ' ▲' : ''}
    </a>
  );
  return c.html(
    <Page title="Leases" nav="leases" principal={principal} csrf={csrf} freshness={reads.freshness()} {...(freed !== undefined ? { notice: `Freed ${freed}: its holder was told.` } : {})}>
      <form method="get" action="/leases" class="filters">
        {(['feature', 'user', 'host', 'app'] as const).map((f) => (
          <span>
            <label for={`f-${f}`}>{f[0]!.toUpperCase() + f.slice(1)}</label>
            <input id={`f-${f}`} name={f} value={filter[f]} />
          </span>
        ))}
        <input type="hidden" name="sort" value={sort} />
        <button type="submit">Filter</button>
        {filter.user !== '' && canFree && rows.length > 0 && (
          <a class="button danger" href={`/leases/free-user?user=${encodeURIComponent(filter.user)}`}>
            Free all of {filter.user}'s seats
          </a>
        )}
      </form>
      <table>
        <thead>
          <tr>
            <th scope="col">Lease</th>
            <th scope="col">
              <SortLink by="feature" label="Feature" />
            </th>
            <th scope="col">Seats</th>
            <th scope="col">
              <SortLink by="user" label="User" />
            </th>
            <th scope="col">
              <SortLink by="host" label="Host" />
            </th>
            <th scope="col">
              <SortLink by="app" label="App" />
            </th>
            <th scope="col">
              <SortLink by="checkedOutAt" label="Since (UTC)" />
            </th>
            <th scope="col" title="A held seat's client renews it by heartbeat: unless renewed, the seat goes back to the pool then. A lingering seat comes back then; a borrowed one is offline until then.">
              <SortLink by="expiresAt" label="Expires unless renewed (UTC)" />
            </th>
            {canFree && <th scope="col"></th>}
          </tr>
        </thead>
        <tbody>
          {rows.map((l) => (
            <tr>
              <td class="mono">{l.leaseId}</td>
              <td>
                {l.feature} {l.version}
              </td>
              <td>{l.count}</td>
              <td>
                <a href={`/leases?user=${encodeURIComponent(l.user)}`}>{l.user}</a>
              </td>
              <td>{l.host}</td>
              <td>{l.app}</td>
              <td>{whenToTheSecond(l.checkedOutAt)}</td>
              <td>
                {whenToTheSecond(l.expiresAt)}
                {l.lingering ? ' (lingering)' : ''}
                {(l as { readonly borrowed?: boolean }).borrowed === true ? ' (borrowed: offline until then)' : ''}
              </td>
              {canFree && (
                <td>
                  <a class="button small" href={`/leases/${encodeURIComponent(l.leaseId)}/free`} aria-label={`Free ${l.leaseId}`}>
                    Free
                  </a>
                </td>
              )}
            </tr>
          ))}
          {rows.length === 0 && (
            <tr>
              <td colspan={canFree ? 9 : 8} class="muted">
                No lease held{Object.values(filter).some((v) => v !== '') ? ' that matches' : ''}.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <h2>Sessions</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">User</th>
            <th scope="col">Host</th>
            <th scope="col">App</th>
            <th scope="col">Seats</th>
            <th scope="col">Queued</th>
            <th scope="col">Opened (UTC)</th>
          </tr>
        </thead>
        <tbody>
          {sessions.map((s) => (
            <tr>
              <td>{s.user}</td>
              <td>{s.host}</td>
              <td>{s.app}</td>
              <td>{s.leaseCount}</td>
              <td>{s.queuedCount}</td>
              <td>{whenToTheSecond(s.openedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>,
  );
}

/** The confirmation form of freeing seats. */
function FreeForm(props: { action: string; csrf: string; what: string; error?: string }) {
  return (
    <form method="post" action={props.action} class="card">
      <Csrf token={props.csrf} />
      <p>{props.what}</p>
      <label for="reason">Reason (the holder is told)</label>
      <input id="reason" name="reason" maxlength={REASON_CHARS_MAX} required aria-invalid={props.error !== undefined ? 'true' : undefined} />
      {props.error !== undefined && (
        <p class="field-error" role="alert">
          {props.error}
        </p>
      )}
      <div class="actions">
        <button type="submit" class="danger">
          Free the seat
        </button>
        <a href="/leases">Cancel</a>
      </div>
    </form>
  );
}

function reasonOf(form: Record<string, string | File>): string | undefined {
  const r = form['reason'];
  if (typeof r !== 'string' || r.trim() === '' || r.length > REASON_CHARS_MAX) return undefined;
  return r.trim();
}

/** GET /leases/:leaseId/free: confirm, with a reason. */
export async function freeLeaseConfirm(c: Context<ConsoleEnv>, deps: ConsoleDeps) {
  const { api, principal, csrf, reads } = pageOf(c, deps);
  const leaseId = c.req.param('leaseId') ?? '';
  const lease = (await reads.read((q) => api.leases.$get({ query: q }))).find((l) => l.leaseId === leaseId);
  return c.html(
    <Page title="Free a seat" nav="leases" principal={principal} csrf={csrf} freshness={reads.freshness()}>
      {lease === undefined ? (
        <p class="banner warn">Lease {leaseId} is not held any more.</p>
      ) : (
        <FreeForm action={`/leases/${encodeURIComponent(leaseId)}/free`} csrf={csrf} what={`Free ${lease.count} seat${lease.count > 1 ? 's' : ''} of ${lease.feature} held by ${lease.user} on ${lease.host} (${leaseId})?`} />
      )}
    </Page>,
  );
}

/** POST /leases/:leaseId/free */
export async function freeLeaseSubmit(c: Context<ConsoleEnv>, deps: ConsoleDeps) {
  const form = await formOf(c);
  const leaseId = c.req.param('leaseId') ?? '';
  const reason = reasonOf(form);
  if (reason === undefined) {
    const { principal, csrf, reads } = pageOf(c, deps);
    return c.html(
      <Page title="Free a seat" nav="leases" principal={principal} csrf={csrf} freshness={reads.freshness()}>
        <FreeForm action={`/leases/${encodeURIComponent(leaseId)}/free`} csrf={csrf} what={`Free ${leaseId}?`} error={`Say why, in at most ${REASON_CHARS_MAX} characters.`} />
      </Page>,
      400,
    );
  }
  await answer(c.var.api.leases[':leaseId'].$delete({ param: { leaseId }, json: { reason } }));
  return c.redirect(`/leases?freed=${encodeURIComponent(leaseId)}`, 303);
}

/** GET /leases/free-user?user=U: confirm freeing all of one user's seats. */
export async function freeUserConfirm(c: Context<ConsoleEnv>, deps: ConsoleDeps) {
  const { api, principal, csrf, reads } = pageOf(c, deps);
  const user = c.req.query('user') ?? '';
  const held = (await reads.read((q) => api.leases.$get({ query: q }))).filter((l) => l.user === user && !l.lingering);
  return c.html(
    <Page title="Free a user's seats" nav="leases" principal={principal} csrf={csrf} freshness={reads.freshness()}>
      <FreeForm action={`/leases/free-user?user=${encodeURIComponent(user)}`} csrf={csrf} what={`Free all ${held.length} of ${user}'s leases (${held.map((l) => l.feature).join(', ') || 'none'})?`} />
    </Page>,
  );
}

/** POST /leases/free-user?user=U */
export async function freeUserSubmit(c: Context<ConsoleEnv>, deps: ConsoleDeps) {
  const form = await formOf(c);
  const user = c.req.query('user') ?? '';
  const reason = reasonOf(form) ?? 'freed from the console';
  const { api, reads } = pageOf(c, deps);
  const held = (await reads.read((q) => api.leases.$get({ query: q }))).filter((l) => l.user === user && !l.lingering);
  for (const l of held) {
    const res = await api.leases[':leaseId'].$delete({ param: { leaseId: l.leaseId }, json: { reason } });
    // One that ended meanwhile is no failure.
    if (!res.ok && res.status !== 404) await answer(Promise.resolve(res));
  }
  return c.redirect(`/leases?freed=${encodeURIComponent(`${held.length} leases of ${user}`)}`, 303);
}
