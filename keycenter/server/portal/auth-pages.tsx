// Signing in and out, choosing the account, and the password pages: the lost
// password's one-time link (never the password by mail), the welcome link's
// first password, and asking to join an account without a password yet.
import { Hono, type Context } from 'hono';
import { KeyCenterError } from '../../key-center-error.ts';
import { chooseAccount, PASSWORD_CHARS_MIN, requestPasswordReset, setPasswordWithToken, signIn, signOut, userOfToken } from '../../member-auth.ts';
import { requestToJoin } from '../../members.ts';
import { countHit } from '../../rate-limiter.ts';
import type { UserTokenPurpose } from '../../store/key-center-store.ts';
import type { KcEnv } from '../server-env.ts';
import { clearSessionCookie, requireSession, setSessionCookie } from '../session-cookie.ts';
import { fieldErrorsOf, formOf, localPath } from './form.ts';
import { Banner, Csrf, Field, renderAuthPage, renderPage, type FieldErrors, type PageResponse } from './page.tsx';

/** Messages a redirect may ask the sign-in page to show (?done=…). */
const SIGN_IN_NOTES: Record<string, string> = {
  'password-set': 'Your password is set. Sign in with your e-mail address and it.',
  'signed-out': 'You are signed out.',
};

function signInPage(c: Context<KcEnv>, form: { email?: string; next?: string }, error?: string, status?: 400 | 401 | 429): PageResponse {
  const note = SIGN_IN_NOTES[c.req.query('done') ?? ''];
  return renderAuthPage(
    c,
    { title: 'Sign in', lede: 'Use the e-mail address your organization gave with its order.', ...(status === undefined ? {} : { status }) },
    <>
      {note === undefined ? null : <Banner kind="ok">{note}</Banner>}
      {error === undefined ? null : <Banner kind="error">{error}</Banner>}
      <form method="post" action="/sign-in">
        <Csrf token={c.var.csrfToken} />
        {form.next === undefined ? null : <input type="hidden" name="next" value={form.next} />}
        <Field label="E-mail address" name="email" type="email" value={form.email} autocomplete="username" required autofocus />
        <Field label="Password" name="password" type="password" autocomplete="current-password" required />
        <button type="submit">Sign in</button>
      </form>
      <div class="auth-links">
        <a href="/forgot-password">Forgot your password?</a>
        <a href="/join">No password yet? Ask to join your organization's account</a>
      </div>
    </>,
  );
}

function passwordPage(c: Context<KcEnv>, purpose: UserTokenPurpose, token: string, email: string, errors: FieldErrors = {}): PageResponse {
  const first = purpose === 'set-password';
  return renderAuthPage(
    c,
    { title: first ? 'Set your password' : 'Choose a new password', lede: first ? 'Welcome! Choose the password you will sign in with.' : 'Choose a new password for your account.', status: Object.keys(errors).length > 0 ? 400 : 200 },
    <form method="post">
      <Csrf token={c.var.csrfToken} />
      <Field label="E-mail address" name="email" type="email" value={email} readOnly autocomplete="username" />
      <Field label="New password" name="password" type="password" errors={errors} autocomplete="new-password" hint={`At least ${PASSWORD_CHARS_MIN} characters.`} required autofocus />
      <Field label="Repeat the new password" name="repeat" type="password" errors={errors} autocomplete="new-password" required />
      <button type="submit">{first ? 'Set password' : 'Change password'}</button>
    </form>,
  );
}

function deadLinkPage(c: Context<KcEnv>): PageResponse {
  return renderAuthPage(
    c,
    { title: 'This link no longer works', status: 410 },
    <>
      <p>Each link works once, for a limited time. This one was already used, or it has expired.</p>
      <p>
        <a class="button" href="/forgot-password">
          Get a new link
        </a>
      </p>
    </>,
  );
}

function joinPage(c: Context<KcEnv>, form: Record<string, string>, errors: FieldErrors = {}): PageResponse {
  const session = c.var.session;
  const body = (
    <form method="post" action="/join" class="stack">
      <Csrf token={c.var.csrfToken} />
      <Field label="Your name" name="name" value={form['name'] ?? session?.user.name} errors={errors} autocomplete="name" required />
      <Field label="E-mail address" name="email" type="email" value={session?.user.email ?? form['email']} readOnly={session !== undefined} errors={errors} autocomplete="email" required />
      <Field label="Site number" name="siteNumber" value={form['siteNumber']} errors={errors} hint="The site number on your organization's order or authorization certificate." required code />
      <Field label="Order number" name="orderNumber" value={form['orderNumber']} errors={errors} hint="The customer order number of one of that site's orders." required />
      <button type="submit">Send the request</button>
    </form>
  );
  const status = Object.keys(errors).length > 0 ? 400 : 200;
  const lede = "The account's administrators receive your request by mail and can let you in.";
  return session === undefined
    ? renderAuthPage(c, { title: 'Ask to join an account', lede, status }, <>{body}<div class="auth-links"><a href="/sign-in">Back to sign-in</a></div></>)
    : renderPage(c, { title: 'Be added to another account', nav: 'join', lede, status }, <div class="card"><div class="card-body">{body}</div></div>);
}

/** The signed-out pages and the account chooser. */
export function authPages() {
  const app = new Hono<KcEnv>();

  app.get('/', (c) => c.redirect(c.var.session === undefined ? '/sign-in' : c.var.session.siteNumber === null ? '/accounts' : '/codes', 303));

  app.get('/sign-in', (c) => {
    if (c.var.session !== undefined) return c.redirect('/', 303);
    return signInPage(c, { next: localPath(c.req.query('next')) ?? '' });
  });

  app.post('/sign-in', async (c) => {
    const form = await formOf(c);
    const next = localPath(form['next']);
    try {
      const { sessionId, session } = await signIn(c.var.kc.ctx, { email: form['email'], password: form['password'], address: c.var.address });
      setSessionCookie(c, sessionId);
      return c.redirect(session.siteNumber === null ? '/accounts' : (next ?? '/codes'), 303);
    } catch (error) {
      if (!(error instanceof KeyCenterError) || (error.code !== 'INVALID_CREDENTIALS' && error.code !== 'RATE_LIMITED')) throw error;
      if (error.retryAfterSeconds !== undefined) c.header('Retry-After', String(error.retryAfterSeconds));
      return signInPage(c, { email: form['email'] ?? '', ...(next === undefined ? {} : { next }) }, error.message, error.code === 'RATE_LIMITED' ? 429 : 401);
    }
  });

  app.post('/sign-out', async (c) => {
    const session = c.var.session;
    if (session !== undefined) await signOut(c.var.kc.ctx, session.idSha256);
    clearSessionCookie(c);
    return c.redirect('/sign-in?done=signed-out', 303);
  });

  app.get('/forgot-password', (c) =>
    renderAuthPage(
      c,
      { title: 'Forgot your password?', lede: 'We will e-mail you a link to choose a new one. We never send passwords by mail.' },
      <form method="post">
        <Csrf token={c.var.csrfToken} />
        <Field label="E-mail address" name="email" type="email" autocomplete="username" required autofocus />
        <button type="submit">Send me a link</button>
        <div class="auth-links">
          <a href="/sign-in">Back to sign-in</a>
        </div>
      </form>,
    ),
  );

  app.post('/forgot-password', async (c) => {
    const form = await formOf(c);
    try {
      await requestPasswordReset(c.var.kc.ctx, { email: form['email'], address: c.var.address });
    } catch (error) {
      if (!(error instanceof KeyCenterError) || error.code === 'RATE_LIMITED') throw error;
      return renderAuthPage(
        c,
        { title: 'Forgot your password?', status: 400 },
        <form method="post">
          <Csrf token={c.var.csrfToken} />
          <Field label="E-mail address" name="email" type="email" value={form['email']} errors={{ email: error.message }} required />
          <button type="submit">Send me a link</button>
        </form>,
      );
    }
    return renderAuthPage(
      c,
      { title: 'Check your mail' },
      <>
        <p>If an account uses {form['email']}, a link to choose a new password is on its way. It works once, within the hour.</p>
        <p>
          <a href="/sign-in">Back to sign-in</a>
        </p>
      </>,
    );
  });

  for (const [path, purpose] of [
    ['/set-password/:token', 'set-password'],
    ['/reset-password/:token', 'reset-password'],
  ] as const) {
    app.get(path, async (c) => {
      const user = await userOfToken(c.var.kc.ctx, c.req.param('token'), purpose);
      return user === undefined ? deadLinkPage(c) : passwordPage(c, purpose, c.req.param('token'), user.email);
    });
    app.post(path, async (c) => {
      const token = c.req.param('token');
      const user = await userOfToken(c.var.kc.ctx, token, purpose);
      if (user === undefined) return deadLinkPage(c);
      const form = await formOf(c);
      if (form['password'] !== form['repeat']) return passwordPage(c, purpose, token, user.email, { repeat: 'the two passwords differ' });
      try {
        await setPasswordWithToken(c.var.kc.ctx, { token, purpose, password: form['password'] });
      } catch (error) {
        if (error instanceof KeyCenterError && error.code === 'TOKEN_INVALID') return deadLinkPage(c);
        return passwordPage(c, purpose, token, user.email, fieldErrorsOf(error, 'password'));
      }
      clearSessionCookie(c);
      return c.redirect('/sign-in?done=password-set', 303);
    });
  }

  app.get('/join', (c) => joinPage(c, {}));

  app.post('/join', async (c) => {
    const form = await formOf(c);
    const session = c.var.session;
    try {
      await countHit(c.var.kc.ctx, 'joinRequestPerAddress', c.var.address);
      await requestToJoin(c.var.kc.ctx, { ...form, email: session?.user.email ?? form['email'] });
    } catch (error) {
      if (error instanceof KeyCenterError && error.code === 'RATE_LIMITED') throw error;
      return joinPage(c, form, fieldErrorsOf(error, 'siteNumber'));
    }
    const done = (
      <>
        <Banner kind="ok">Your request is sent.</Banner>
        <p>
          If site {form['siteNumber']} has an order {form['orderNumber']}, its administrators now have your request. You will get an e-mail once one of them
          lets you in.
        </p>
      </>
    );
    return session === undefined
      ? renderAuthPage(c, { title: 'Request sent' }, <>{done}<div class="auth-links"><a href="/sign-in">Back to sign-in</a></div></>)
      : renderPage(c, { title: 'Request sent', nav: 'join' }, <div class="card"><div class="card-body">{done}</div></div>);
  });

  app.get('/accounts', (c) => {
    const session = requireSession(c);
    return renderPage(
      c,
      {
        title: session.siteNumber === null ? 'Choose an account' : 'Switch account',
        nav: 'accounts',
        lede: session.memberships.length === 0 ? undefined : 'Your e-mail address belongs to several accounts, one per site number. Choose the one to work in.',
      },
      session.memberships.length === 0 ? (
        <div class="card">
          <div class="card-body">
            <p>You are not a member of any account yet.</p>
            <a class="button" href="/join">
              Ask to join an account
            </a>
          </div>
        </div>
      ) : (
        <div class="choose">
          {session.memberships.map((m) => (
            <form method="post" action="/accounts">
              <Csrf token={c.var.csrfToken} />
              <input type="hidden" name="siteNumber" value={m.siteNumber} />
              <button type="submit" aria-label={`${m.companyName}, site ${m.siteNumber}`}>
                <span>
                  <span class="company">{m.companyName}</span>
                  <br />
                  <span class="site">
                    Site {m.siteNumber} · {m.role === 'admin' ? 'Administrator' : 'Member'}
                  </span>
                </span>
                <span>{m.siteNumber === session.siteNumber ? 'Current' : 'Open →'}</span>
              </button>
            </form>
          ))}
        </div>
      ),
    );
  });

  app.post('/accounts', async (c) => {
    const session = requireSession(c);
    await chooseAccount(c.var.kc.ctx, session, (await formOf(c))['siteNumber'] ?? '');
    return c.redirect('/codes', 303);
  });

  return app;
}
