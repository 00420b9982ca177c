// The self-service portal: its pages, their static assets, the CSRF check on
// every form, security headers, and how a refusal becomes a page (signed out →
// sign-in; no account chosen → the chooser; anything of another account → 404).
import { readFileSync } from 'node:fs';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { KeyCenter } from '../../key-center.ts';
import { KeyCenterError } from '../../key-center-error.ts';
import { statusOfCode } from '../api-errors.ts';
import { csrfProtection } from '../csrf.ts';
import type { KcEnv } from '../server-env.ts';
import { accountPages } from './account-pages.tsx';
import { authPages } from './auth-pages.tsx';
import { codePages } from './code-pages.tsx';
import { keyPages } from './key-pages.tsx';
import { renderAuthPage, renderPage, type PageResponse } from './page.tsx';
import { requestFilePages } from './request-file-pages.tsx';
import { wizardPages } from './wizard-pages.tsx';

const ASSETS: Record<string, { type: string; body: string }> = {
  'portal.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('../assets/portal.css', import.meta.url), 'utf8') },
  'portal.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('../assets/portal.js', import.meta.url), 'utf8') },
};

/** The portal's icon (ICO with one 32×32 PNG). */
const FAVICON = readFileSync(new URL('../assets/favicon.ico', import.meta.url));

/** `s` browsers may cache the assets. */
const ASSET_MAX_AGE_S = 3600;
/**
 * Bytes of a form body, at most: the largest form (the wizard's confirm step,
 * with a 500-character comment) is under 2 KiB. A larger body is refused
 * before it is read, so a hostile one costs no memory.
 */
export const PORTAL_FORM_BYTES_MAX = 64 * 1024;

/** A page that says what went wrong, in the frame the visitor is in. */
function errorPage(c: Context<KcEnv>, status: ContentfulStatusCode, title: string, message: string): PageResponse {
  const body = (
    <>
      <p>{message}</p>
      <p>
        <a class="button secondary" href="/">
          Back to the key center
        </a>
      </p>
    </>
  );
  const session = c.var.session;
  return session !== undefined && c.var.csrfToken !== undefined
    ? renderPage(c, { title, status }, <div class="card"><div class="card-body">{body}</div></div>)
    : renderAuthPage(c, { title, status }, body);
}

/** The page answering any error a page route threw. */
export function pageErrorResponse(error: Error, c: Context<KcEnv>, log?: (line: string) => void): PageResponse {
  if (!(error instanceof KeyCenterError)) {
    log?.(`${c.req.method} ${c.req.path} failed: ${error.stack ?? error.message}`);
    return errorPage(c, 500, 'Something went wrong', 'The key center could not answer. Try again in a moment.');
  }
  switch (error.code) {
    case 'UNAUTHORIZED':
      return c.redirect(c.req.method === 'GET' ? `/sign-in?next=${encodeURIComponent(c.req.path)}` : '/sign-in', 303);
    case 'ACCOUNT_NOT_CHOSEN':
      return c.redirect('/accounts', 303);
    case 'NOT_FOUND':
    case 'UNKNOWN_AUTH_CODE':
    case 'LICENSE_NOT_FOUND':
      return notFoundPage(c);
    case 'CSRF_TOKEN_INVALID':
      return errorPage(c, 403, 'This form has expired', error.message);
    case 'RATE_LIMITED':
      if (error.retryAfterSeconds !== undefined) c.header('Retry-After', String(error.retryAfterSeconds));
      return errorPage(c, 429, 'Too many attempts', error.message);
    default: {
      return errorPage(c, statusOfCode(error.code), 'That did not work', `${error.code}: ${error.message}`);
    }
  }
}

/** 404, the same for a page that does not exist and for anything of an account the member is not in. */
export function notFoundPage(c: Context<KcEnv>): PageResponse {
  return errorPage(c, 404, 'Page not found', 'There is nothing here — or nothing this account can see. Check the address, or switch account.');
}

/** The portal's routes. */
export function portalPages(kc: KeyCenter) {
  const app = new Hono<KcEnv>();
  // Browsers ask for /favicon.ico on every page: a small icon, not a 404 in every log.
  app.get('/favicon.ico', (c) => c.body(new Uint8Array(FAVICON), 200, { 'content-type': 'image/x-icon', 'cache-control': `public, max-age=${ASSET_MAX_AGE_S}` }));
  app.get('/assets/:name', (c) => {
    const asset = ASSETS[c.req.param('name')];
    if (asset === undefined) return notFoundPage(c);
    c.header('content-type', asset.type);
    c.header('cache-control', `public, max-age=${ASSET_MAX_AGE_S}`);
    return c.body(asset.body);
  });
  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      referrerPolicy: 'same-origin',
    }),
  );
  app.use(
    bodyLimit({
      maxSize: PORTAL_FORM_BYTES_MAX,
      onError: (c) => errorPage(c, 413, 'This form is too large', `A form sends at most ${PORTAL_FORM_BYTES_MAX / 1024} KiB; nothing was changed.`),
    }),
  );
  app.use(csrfProtection(kc));
  app.route('/', authPages());
  app.route('/', codePages());
  app.route('/', wizardPages());
  app.route('/', requestFilePages());
  app.route('/', keyPages());
  app.route('/', accountPages());
  return app;
}
