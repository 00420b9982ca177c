// The console's page frame and building blocks (hono/jsx, rendered on the
// server): the signed-in layout with the navigation on top, banners, the
// hidden CSRF field every form carries, and the small formatting helpers.
// Islands of client script (assets/console.js) find their elements by data-
// attributes; the pages work without them except where they are live.
import { raw } from 'hono/html';
import type { Child, FC, PropsWithChildren } from 'hono/jsx';
import type { Principal } from '../admin-env.ts';
import { CSRF_FIELD } from './console-sessions.ts';

/** The navigation entries; a page names the one it belongs to. */
export type NavKey = 'overview' | 'pools' | 'usage' | 'leases' | 'licenses' | 'reports' | 'audit' | 'api';

const NAV: readonly { key: NavKey; href: string; label: string }[] = [
  { key: 'overview', href: '/', label: 'Overview' },
  { key: 'pools', href: '/pools', label: 'Pools' },
  { key: 'usage', href: '/usage', label: 'Usage' },
  { key: 'leases', href: '/leases', label: 'Leases' },
  { key: 'licenses', href: '/licenses', label: 'Licenses' },
  { key: 'reports', href: '/reports', label: 'Reports' },
  { key: 'audit', href: '/audit', label: 'Audit' },
  { key: 'api', href: '/api-reference', label: 'API' },
];

/** The hidden CSRF field every form carries. */
export const Csrf: FC<{ token: string }> = ({ token }) => <input type="hidden" name={CSRF_FIELD} value={token} />;

/** A whole HTML document. */
export const Document: FC<PropsWithChildren<{ title: string; scripts?: readonly string[]; csrf?: string }>> = ({ title, scripts, csrf, children }) => (
  <>
    {raw('<!DOCTYPE html>')}
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · Floe console`}</title>
        {csrf !== undefined && <meta name="csrf-token" content={csrf} />}
        <link rel="stylesheet" href="/assets/console.css" />
        {(scripts ?? []).map((s) => (s.endsWith('.css') ? <link rel="stylesheet" href={s} /> : <script src={s} defer></script>))}
        <script src="/assets/console.js" defer></script>
      </head>
      <body>{children}</body>
    </html>
  </>
);

/** Where the page's data came from: through the leader, or this node's own (stale) state. */
export interface Freshness {
  readonly nodeId: string;
  readonly role: string;
  /** Set when the page fell back to this node's own state (no leader confirmed a read). */
  readonly stale?: { readonly lagEntries: number; readonly appliedIndex: number };
}

/** A signed-in page. */
export interface PageProps {
  readonly title: string;
  readonly nav: NavKey;
  readonly principal: Principal;
  readonly csrf: string;
  readonly freshness: Freshness;
  /** Scripts and stylesheets the page's islands need besides console.js. */
  readonly scripts?: readonly string[];
  /** A banner under the title: what just happened. */
  readonly notice?: Child;
  readonly actions?: Child;
}

/** The signed-in layout. */
export const Page: FC<PropsWithChildren<PageProps>> = (p) => (
  <Document title={p.title} csrf={p.csrf} {...(p.scripts !== undefined ? { scripts: p.scripts } : {})}>
    <header class="top">
      <a class="brand" href="/">
        <span class="brand-mark" aria-hidden="true">
          F
        </span>
        Floe
      </a>
      <nav aria-label="Console">
        {NAV.map((n) => (
          <a href={n.href} class={n.key === p.nav ? 'active' : ''} aria-current={n.key === p.nav ? 'page' : undefined}>
            {n.label}
          </a>
        ))}
      </nav>
      <div class="who">
        <span class={`badge role-${p.freshness.role}`} title="the node you are connected to">
          {p.freshness.nodeId} · {p.freshness.role}
        </span>
        <span class="token" title="the admin token you signed in with">
          {p.principal.name} ({p.principal.role})
        </span>
        <form method="post" action="/logout" class="inline">
          <Csrf token={p.csrf} />
          <button type="submit" class="link">
            Sign out
          </button>
        </form>
      </div>
    </header>
    <main>
      {p.freshness.stale !== undefined && (
        <p class="banner warn" role="status">
          No leader confirmed this read: showing node {p.freshness.nodeId}'s own state, which may be {p.freshness.stale.lagEntries} or more entries behind (applied index {p.freshness.stale.appliedIndex}).
        </p>
      )}
      <div class="title">
        <h1>{p.title}</h1>
        {p.actions !== undefined && <div class="actions">{p.actions}</div>}
      </div>
      {p.notice !== undefined && (
        <p class="banner ok" role="status">
          {p.notice}
        </p>
      )}
      {p.children}
    </main>
  </Document>
);

/** A date and time, UTC, to the minute. */
export function when(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

/**
 * A date and time, UTC, to the second: for leases and sessions, whose
 * deadlines come seconds apart (a lease ttl is 30 s by default).
 */
export function whenToTheSecond(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** Whole days from `nowMs` to `ms` (negative: past). */
export function daysUntil(ms: number, nowMs: number): number {
  return Math.floor((ms - nowMs) / 86_400_000);
}

/** The warning class of a license `days` from its end: red within 7, orange 14, yellow 30. */
export function expiryClass(days: number | null): string {
  if (days === null) return '';
  if (days < 7) return 'exp-7';
  if (days < 14) return 'exp-14';
  if (days < 30) return 'exp-30';
  return '';
}

/** An embedded JSON value for an island (a <script type="application/json">). */
export const IslandData: FC<{ id: string; value: unknown }> = ({ id, value }) => (
  // `<` escaped so the JSON can never close the script element.
  <script type="application/json" id={id}>
    {raw(JSON.stringify(value).replaceAll('<', '\\u003c'))}
  </script>
);
