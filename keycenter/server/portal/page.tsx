// The portal's page frame and its building blocks (hono/jsx, rendered on the
// server): the signed-in layout with the account's menu on the left, the
// signed-out card, labelled form fields that show their error, banners and
// status badges. Every page goes through renderPage() or renderAuthPage().
import type { Context } from 'hono';
import { raw } from 'hono/html';
import type { Child, FC, PropsWithChildren } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { KeyStatus } from '../../issued-key.ts';
import type { SessionView } from '../../member-auth.ts';
import type { KcEnv } from '../server-env.ts';

/** The menu entries; a page names the one it belongs to. */
export type NavKey = 'codes' | 'hosts' | 'orders' | 'request-file' | 'members' | 'join' | 'accounts' | 'profile';

/** What a page handler answers. */
export type PageResponse = Response | Promise<Response>;

/** Field name → the message shown under it. */
export type FieldErrors = Readonly<Record<string, string>>;

const Document: FC<PropsWithChildren<{ title: string; vendorName: string }>> = ({ title, vendorName, children }) => (
  <>
    {raw('<!DOCTYPE html>')}
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · ${vendorName}`}</title>
        <link rel="stylesheet" href="/assets/portal.css" />
        <script src="/assets/portal.js" defer></script>
      </head>
      <body>{children}</body>
    </html>
  </>
);

const Brand: FC<{ vendorName: string }> = ({ vendorName }) => (
  <a class="brand" href="/">
    <span class="brand-mark" aria-hidden="true">
      {vendorName.slice(0, 1).toUpperCase()}
    </span>
    {vendorName}
  </a>
);

/** The hidden CSRF field every form carries. */
export const Csrf: FC<{ token: string }> = ({ token }) => <input type="hidden" name="_csrf" value={token} />;

interface AppPage {
  readonly title: string;
  readonly nav?: NavKey | undefined;
  readonly lede?: Child;
  /** Buttons at the right of the title. */
  readonly actions?: Child;
  readonly breadcrumb?: Child;
  readonly status?: ContentfulStatusCode;
}

function NavLink({ href, nav, me, children }: PropsWithChildren<{ href: string; nav: NavKey; me: NavKey | undefined }>) {
  return (
    <a href={href} aria-current={nav === me ? 'page' : undefined}>
      {children}
    </a>
  );
}

/** A signed-in page: top bar, the account's menu, the content. */
export function renderPage(c: Context<KcEnv>, page: AppPage, body: Child): PageResponse {
  const session = c.var.session as SessionView;
  const vendorName = c.var.kc.ctx.config.vendorName;
  const account = session.memberships.find((m) => m.siteNumber === session.siteNumber);
  const html = (
    <Document title={page.title} vendorName={vendorName}>
      <header class="topbar">
        <Brand vendorName={vendorName} />
        {account === undefined ? null : <span class="account-chip">{`${account.companyName} · Site ${account.siteNumber}`}</span>}
        <span class="spacer" />
        <span class="who">{session.user.email}</span>
        <form method="post" action="/sign-out" class="inline-form">
          <Csrf token={c.var.csrfToken} />
          <button type="submit" class="secondary small">
            Sign out
          </button>
        </form>
      </header>
      <div class="shell">
        <nav class="sidebar" aria-label="Key center">
          {account === undefined ? null : (
            <>
              <div class="nav-section">Licensing</div>
              <NavLink href="/codes" nav="codes" me={page.nav}>
                My authorization codes
              </NavLink>
              <NavLink href="/hosts" nav="hosts" me={page.nav}>
                View codes by host
              </NavLink>
              <NavLink href="/activate/request-file" nav="request-file" me={page.nav}>
                Upload a request file
              </NavLink>
              <NavLink href="/orders" nav="orders" me={page.nav}>
                Order history
              </NavLink>
            </>
          )}
          <div class="nav-section">Account</div>
          {account === undefined ? null : (
            <NavLink href="/members" nav="members" me={page.nav}>
              Account members
            </NavLink>
          )}
          <NavLink href="/join" nav="join" me={page.nav}>
            Be added to another account
          </NavLink>
          {session.memberships.length > 1 ? (
            <NavLink href="/accounts" nav="accounts" me={page.nav}>
              Switch account
            </NavLink>
          ) : null}
          <NavLink href="/profile" nav="profile" me={page.nav}>
            Profile and password
          </NavLink>
        </nav>
        <main>
          {page.breadcrumb === undefined ? null : <div class="breadcrumb">{page.breadcrumb}</div>}
          <div class="page-head">
            <div>
              <h1>{page.title}</h1>
              {page.lede === undefined ? null : <p class="lede">{page.lede}</p>}
            </div>
            {page.actions ?? null}
          </div>
          {body}
        </main>
      </div>
    </Document>
  );
  return c.html(html, page.status ?? 200);
}

/** A signed-out page: one centered card. */
export function renderAuthPage(c: Context<KcEnv>, page: { title: string; lede?: Child; status?: ContentfulStatusCode }, body: Child): PageResponse {
  const vendorName = c.var.kc.ctx.config.vendorName;
  return c.html(
    <Document title={page.title} vendorName={vendorName}>
      <div class="auth">
        <Brand vendorName={vendorName} />
        <div class="auth-card">
          <h1>{page.title}</h1>
          {page.lede === undefined ? null : <p class="lede">{page.lede}</p>}
          {body}
        </div>
        <p class="auth-foot">Licenses, authorization codes and keys for your organization.</p>
      </div>
    </Document>,
    page.status ?? 200,
  );
}

interface FieldProps {
  readonly label: string;
  readonly name: string;
  readonly type?: 'text' | 'email' | 'password' | 'number' | 'date';
  readonly value?: string | number | undefined;
  readonly errors?: FieldErrors | undefined;
  /** The key in `errors` when it differs from the name ("lockCodes.1"). */
  readonly errorKey?: string;
  readonly hint?: Child;
  readonly required?: boolean;
  readonly readOnly?: boolean;
  readonly autocomplete?: string;
  readonly id?: string;
  readonly min?: number;
  readonly max?: number;
  readonly placeholder?: string;
  readonly code?: boolean;
  /** For lock-code fields: the client island checks them as they are left. */
  readonly lockCode?: boolean;
  readonly autofocus?: boolean;
}

/** A labelled input with its hint and its error (aria-invalid, aria-describedby). */
export function Field(p: FieldProps) {
  const id = p.id ?? `f-${p.name.replace(/[^A-Za-z0-9_-]/g, '-')}`;
  const error = p.errors?.[p.errorKey ?? p.name];
  const described = [p.hint === undefined ? null : `${id}-hint`, `${id}-error`].filter((x) => x !== null).join(' ');
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <input
        id={id}
        name={p.name}
        type={p.type ?? 'text'}
        value={p.value === undefined ? undefined : String(p.value)}
        required={p.required}
        readonly={p.readOnly}
        autocomplete={p.autocomplete}
        min={p.min}
        max={p.max}
        placeholder={p.placeholder}
        class={p.code === true ? 'code-input' : undefined}
        spellcheck={p.code === true ? false : undefined}
        data-lock-code={p.lockCode === true ? '' : undefined}
        autofocus={p.autofocus}
        aria-invalid={error === undefined ? undefined : 'true'}
        aria-describedby={described}
      />
      {p.hint === undefined ? null : (
        <div class="hint" id={`${id}-hint`}>
          {p.hint}
        </div>
      )}
      <div class="error" id={`${id}-error`} role="alert" hidden={error === undefined}>
        {error ?? ''}
      </div>
    </div>
  );
}

export const Banner: FC<PropsWithChildren<{ kind: 'error' | 'ok' | 'info' }>> = ({ kind, children }) => (
  <div class={`banner ${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
    {children}
  </div>
);

const STATUS_LABELS: Record<KeyStatus, string> = { active: 'Active', superseded: 'Superseded', expired: 'Expired' };

export const StatusBadge: FC<{ status: KeyStatus }> = ({ status }) => <span class={`badge ${status}`}>{STATUS_LABELS[status]}</span>;
