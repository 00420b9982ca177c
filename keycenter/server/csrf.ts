// CSRF protection of the portal's forms: every form carries a token derived
// (HMAC-SHA256) from a secret in the store and what identifies the browser —
// its session, or before sign-in a random cookie of its own — and every POST
// to a page must bring it back. A cross-site page can make a browser send the
// cookies, but cannot read the token. The secret lives in the store, so every
// instance derives the same tokens.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { newSecretToken } from '../ids.ts';
import type { KeyCenter } from '../key-center.ts';
import { KeyCenterError } from '../key-center-error.ts';
import type { KcEnv } from './server-env.ts';

/** The cookie that binds a signed-out browser's forms. */
export const ANON_COOKIE = 'floe_kc_anon';
/** The form field that carries the token. */
export const CSRF_FIELD = '_csrf';

/** Middleware: sets c.var.csrfToken, and refuses a POST without it (CSRF_TOKEN_INVALID). */
export function csrfProtection(kc: KeyCenter) {
  let secret: Promise<string> | undefined;
  return createMiddleware<KcEnv>(async (c, next) => {
    // Kept once read; a failed read is not kept, or one store hiccup would fail every page until a restart.
    secret ??= kc.ctx.store.transaction((q) => q.settingOrInsert('csrf-secret', newSecretToken())).catch((error: unknown) => {
      secret = undefined;
      throw error;
    });
    let binding = c.var.session?.idSha256;
    if (binding === undefined) {
      binding = getCookie(c, ANON_COOKIE);
      if (binding === undefined || !/^[A-Za-z0-9_-]{43}$/.test(binding)) {
        binding = newSecretToken();
        setCookie(c, ANON_COOKIE, binding, { path: '/', httpOnly: true, secure: kc.ctx.config.secureCookies, sameSite: 'Lax' });
      }
    }
    const token = createHmac('sha256', await secret).update(`csrf:${binding}`).digest('base64url');
    c.set('csrfToken', token);
    if (c.req.method === 'POST') {
      const body = await c.req.parseBody();
      const sent = body[CSRF_FIELD];
      if (typeof sent !== 'string' || sent.length !== token.length || !timingSafeEqual(Buffer.from(sent), Buffer.from(token))) {
        throw new KeyCenterError('CSRF_TOKEN_INVALID', 'this form has expired or did not come from this site; reload the page and send it again');
      }
    }
    await next();
  });
}
