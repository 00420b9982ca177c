// The web console, served by every node's admin server at / (docs/console.md):
// server-rendered hono/jsx pages over the same JSON API routes and schemas a
// script uses (console-env.ts: the pages call the API in-process, through its
// auth, role checks and read barrier), plus small islands of client script
// for what is live (assets/console.js: pools over server-sent events, the
// usage chart with uPlot, the API reference's "try it").
//
// Sign-in takes an admin token once; the browser then holds a session id in
// a Secure, HttpOnly, SameSite=Strict cookie (console-sessions.ts). Every
// form carries the session's CSRF token; every change re-checks it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { hashToken } from '../bearer-auth.ts';
import { AdminError } from '../errors.ts';
import { Document } from './console-page.tsx';
import { apiClientOf, type ConsoleDeps, type ConsoleEnv } from './console-env.ts';
import { CSRF_FIELD, csrfMatches, SESSION_COOKIE, SESSION_LIFETIME_MS } from './console-sessions.ts';
import { apiReferencePage } from './pages/api-reference-page.tsx';
import { auditPage } from './pages/audit-page.tsx';
import { freeLeaseConfirm, freeLeaseSubmit, freeUserConfirm, freeUserSubmit, leasesPage } from './pages/leases-pages.tsx';
import { importLicenseSubmit, licensesPage, removeLicenseConfirm, removeLicenseSubmit } from './pages/license-pages.tsx';
import { LoginPage } from './pages/login-page.tsx';
import { readForm } from './read-form.ts';
import { overviewPage } from './pages/overview-page.tsx';
import { poolsPage } from './pages/pools-page.tsx';
import { reportsPage } from './pages/reports-page.tsx';
import { usagePage } from './pages/usage-page.tsx';

const HERE = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** A static file the console serves: where it is and its type. */
interface Asset {
  readonly path: string;
  readonly type: string;
}

const CSS = 'text/css; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';

/** The console's static files; the libraries straight from their packages (no build step, no CDN). */
function assetFiles(): ReadonlyMap<string, Asset> {
  const uplotDir = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  const swaggerDir = dirname(require.resolve('swagger-ui-dist/package.json'));
  return new Map<string, Asset>([
    ['console.css', { path: join(HERE, 'assets', 'console.css'), type: CSS }],
    ['console.js', { path: join(HERE, 'assets', 'console.js'), type: JS }],
    ['uplot.js', { path: join(uplotDir, 'uPlot.iife.min.js'), type: JS }],
    ['uplot.css', { path: join(uplotDir, 'uPlot.min.css'), type: CSS }],
    ['swagger-ui-bundle.js', { path: join(swaggerDir, 'swagger-ui-bundle.js'), type: JS }],
    ['swagger-ui.css', { path: join(swaggerDir, 'swagger-ui.css'), type: CSS }],
  ]);
}

/** Only a path on this server may be where sign-in returns to. */
function safeNext(next: string | undefined): string {
  return next !== undefined && /^\/(?!\/)[\w\-./?=&%]*$/.test(next) ? next : '/';
}

/** The console's routes at /. */
export function consoleRoutes(deps: ConsoleDeps): Hono<ConsoleEnv> {
  const files = assetFiles();
  /** Each file's text, read on its first request (Swagger UI's 1.5 MB only if someone opens the reference). */
  const loaded = new Map<string, string>();
  const app = new Hono<ConsoleEnv>();

  app.get('/assets/:name', (c) => {
    const name = c.req.param('name');
    const asset = files.get(name);
    if (asset === undefined) return c.notFound();
    let body = loaded.get(name);
    if (body === undefined) {
      body = readFileSync(asset.path, 'utf8');
      loaded.set(name, body);
    }
    return c.body(body, 200, { 'content-type': asset.type, 'cache-control': 'no-cache' });
  });

  // Browsers ask for /favicon.ico on every page: a small icon, not a 404 in every log.
  const favicon = readFileSync(join(HERE, 'assets', 'favicon.ico'));
  app.get('/favicon.ico', (c) => c.body(new Uint8Array(favicon), 200, { 'content-type': 'image/x-icon', 'cache-control': 'public, max-age=86400' }));

  app.get('/login', (c) => c.html(<LoginPage next={safeNext(c.req.query('next'))} />));

  app.post('/login', async (c) => {
    const body = await readForm(c);
    const token = typeof body['token'] === 'string' ? body['token'].trim() : '';
    const next = safeNext(typeof body['next'] === 'string' ? body['next'] : undefined);
    // Sign-in needs no CSRF token of its own: SameSite=Strict keeps the cookie it sets from riding
    // on other sites' requests, and a forged sign-in would need the admin token itself.
    const principal = token.length > 0 && token.length <= 1000 ? deps.verifyToken(token) : undefined;
    if (principal === undefined) {
      return c.html(<LoginPage next={next} error="This token is not an admin token of this cluster." />, 401);
    }
    const session = deps.sessions.create(hashToken(token));
    setCookie(c, SESSION_COOKIE, session.id, { path: '/', httpOnly: true, secure: true, sameSite: 'Strict', maxAge: SESSION_LIFETIME_MS / 1000 });
    return c.redirect(next, 303);
  });

  app.post('/logout', async (c) => {
    const id = getCookie(c, SESSION_COOKIE);
    const found = deps.sessions.of(c);
    if (found !== undefined) {
      const body = await readForm(c);
      if (typeof body[CSRF_FIELD] !== 'string' || !csrfMatches(found.session, body[CSRF_FIELD])) throw new AdminError(403, 'CSRF_TOKEN_INVALID', 'reload the page and sign out again');
    }
    if (id !== undefined) deps.sessions.remove(id);
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: true });
    return c.redirect('/login', 303);
  });

  // Every other page needs a session; without one, sign in and come back.
  const signedIn = createMiddleware<ConsoleEnv>(async (c, next) => {
    const found = deps.sessions.of(c);
    if (found === undefined) return c.redirect(`/login?next=${encodeURIComponent(c.req.path + (new URL(c.req.url).search || ''))}`, 303);
    c.set('principal', found.principal);
    c.set('session', found.session);
    c.set('api', apiClientOf(deps, found.session));
    c.header('cache-control', 'no-store');
    await next();
    return undefined;
  });

  app.get('/', signedIn, (c) => overviewPage(c, deps));
  app.get('/pools', signedIn, (c) => poolsPage(c, deps));
  app.get('/usage', signedIn, (c) => usagePage(c, deps));
  app.get('/leases', signedIn, (c) => leasesPage(c, deps));
  app.get('/leases/free-user', signedIn, (c) => freeUserConfirm(c, deps));
  app.post('/leases/free-user', signedIn, (c) => freeUserSubmit(c, deps));
  app.get('/leases/:leaseId/free', signedIn, (c) => freeLeaseConfirm(c, deps));
  app.post('/leases/:leaseId/free', signedIn, (c) => freeLeaseSubmit(c, deps));
  app.get('/licenses', signedIn, (c) => licensesPage(c, deps));
  app.post('/licenses', signedIn, (c) => importLicenseSubmit(c, deps));
  app.get('/licenses/:licenseId/remove', signedIn, (c) => removeLicenseConfirm(c, deps));
  app.post('/licenses/:licenseId/remove', signedIn, (c) => removeLicenseSubmit(c, deps));
  app.get('/reports', signedIn, (c) => reportsPage(c, deps));
  app.get('/audit', signedIn, (c) => auditPage(c, deps));
  app.get('/api-reference', signedIn, (c) => apiReferencePage(c, deps));

  // A refusal of the API (or of a form) shows as a page, with the code and a way back.
  app.onError((error, c) => {
    const status: ContentfulStatusCode = error instanceof HTTPException ? error.status : 500;
    const code = error instanceof AdminError ? error.code : status === 500 ? 'INTERNAL' : 'BAD_REQUEST';
    const message = error instanceof HTTPException ? error.message : 'the console failed to answer';
    return c.html(
      <Document title={code}>
        <main class="narrow">
          <h1>{code}</h1>
          <p class="banner warn" role="alert">
            {message}
          </p>
          <p>
            <a href="javascript:history.back()">Back</a> · <a href="/">Overview</a>
          </p>
        </main>
      </Document>,
      status,
    );
  });
  return app;
}
