// The account's members (admins add and remove members and answer join
// requests) and the member's profile: e-mail and company shown but not
// editable — the e-mail is the sign-in name and the company ties colleagues
// together, so the vendor's customer service changes them — and the password,
// changed given the current one.
import { Hono, type Context } from 'hono';
import { KeyCenterError } from '../../key-center-error.ts';
import { changePassword, PASSWORD_CHARS_MIN } from '../../member-auth.ts';
import { addMember, decideJoinRequest, membersOf, pendingJoinRequests, removeMember } from '../../members.ts';
import type { KcEnv } from '../server-env.ts';
import { requireScope, requireSession } from '../session-cookie.ts';
import { fieldErrorsOf, formOf } from './form.ts';
import { day } from './format.ts';
import { Banner, Csrf, Field, renderPage, type FieldErrors, type PageResponse } from './page.tsx';

const NOTES: Record<string, string> = {
  added: 'The member is added; they got an e-mail to sign in.',
  removed: 'The member is removed from this account.',
  approved: 'The request is approved; the new member got an e-mail.',
  declined: 'The request is declined.',
  'password-changed': 'Your password is changed. Your other sessions are signed out.',
};

async function membersPage(c: Context<KcEnv>, form: Record<string, string> = {}, errors: FieldErrors = {}): Promise<PageResponse> {
  const scope = requireScope(c);
  const ctx = c.var.kc.ctx;
  const members = await membersOf(ctx, scope.siteNumber);
  const me = members.find((m) => m.userId === scope.userId);
  const admin = me?.role === 'admin';
  const requests = admin ? await pendingJoinRequests(ctx, scope) : [];
  const note = NOTES[c.req.query('done') ?? ''];
  return renderPage(
    c,
    {
      title: 'Account members',
      nav: 'members',
      lede: admin
        ? 'Everyone here can generate codes and activate keys for this account. Administrators also add members and answer requests to join.'
        : `Everyone here can generate codes and activate keys for this account. Ask an administrator (${members
            .filter((m) => m.role === 'admin')
            .map((m) => m.name)
            .join(', ')}) to add someone.`,
      status: Object.keys(errors).length > 0 ? 400 : 200,
    },
    <>
      {note === undefined ? null : <Banner kind="ok">{note}</Banner>}
      {requests.length === 0 ? null : (
        <section class="card" aria-label="Requests to join">
          <div class="card-head">
            <h2>Requests to join</h2>
          </div>
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>E-mail</th>
                <th>Order number given</th>
                <th>Asked</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {requests.map((r) => (
                <tr>
                  <td>{r.name}</td>
                  <td>{r.email}</td>
                  <td>{r.orderNumber}</td>
                  <td class="nowrap">{day(r.createdAt)}</td>
                  <td class="num nowrap">
                    <form method="post" action={`/members/requests/${r.requestId}`} class="inline-form">
                      <Csrf token={c.var.csrfToken} />
                      <button type="submit" name="decision" value="approve" class="small" aria-label={`Approve ${r.email}`}>
                        Approve
                      </button>{' '}
                      <button type="submit" name="decision" value="decline" class="danger small" aria-label={`Decline ${r.email}`}>
                        Decline
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      <section class="card" aria-label="Members">
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>E-mail</th>
              <th>Role</th>
              <th>Member since</th>
              {admin ? <th></th> : null}
            </tr>
          </thead>
          <tbody>
            {members.map((m) => (
              <tr>
                <td>{m.name}</td>
                <td>{m.email}</td>
                <td>{m.role === 'admin' ? <span class="badge info">Administrator</span> : 'Member'}</td>
                <td class="nowrap">{day(m.addedAt)}</td>
                {admin ? (
                  <td class="num">
                    {m.userId === scope.userId ? null : (
                      <form method="post" action={`/members/${m.userId}/remove`} class="inline-form">
                        <Csrf token={c.var.csrfToken} />
                        <button type="submit" class="danger small" aria-label={`Remove ${m.email}`}>
                          Remove
                        </button>
                      </form>
                    )}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {admin ? (
        <section class="card" aria-label="Add a member">
          <div class="card-head">
            <div>
              <h2>Add a member</h2>
              <div class="sub">They get an e-mail with a link to set their password (or a note, if they already have one).</div>
            </div>
          </div>
          <div class="card-body">
            {errors['form'] === undefined ? null : <Banner kind="error">{errors['form']}</Banner>}
            <form method="post" action="/members" class="stack">
              <Csrf token={c.var.csrfToken} />
              <Field label="Name" name="name" value={form['name']} errors={errors} autocomplete="off" required />
              <Field label="E-mail address" name="email" type="email" value={form['email']} errors={errors} autocomplete="off" required />
              <div class="field">
                <label for="f-role">Role</label>
                <select id="f-role" name="role">
                  <option value="member" selected={form['role'] !== 'admin'}>
                    Member
                  </option>
                  <option value="admin" selected={form['role'] === 'admin'}>
                    Administrator
                  </option>
                </select>
              </div>
              <button type="submit">Add member</button>
            </form>
          </div>
        </section>
      ) : null}
    </>,
  );
}

function profilePage(c: Context<KcEnv>, errors: FieldErrors = {}): PageResponse {
  const session = requireSession(c);
  const account = session.memberships.find((m) => m.siteNumber === session.siteNumber);
  const vendorName = c.var.kc.ctx.config.vendorName;
  const note = NOTES[c.req.query('done') ?? ''];
  return renderPage(
    c,
    { title: 'Profile and password', nav: 'profile', status: Object.keys(errors).length > 0 ? 400 : 200 },
    <>
      {note === undefined ? null : <Banner kind="ok">{note}</Banner>}
      <section class="card" aria-label="Profile">
        <div class="card-body">
          <dl class="facts">
            <dt>Name</dt>
            <dd>{session.user.name}</dd>
            <dt>E-mail address</dt>
            <dd>{session.user.email}</dd>
            {account === undefined ? null : (
              <>
                <dt>Company</dt>
                <dd>{account.companyName}</dd>
                <dt>Site number</dt>
                <dd>{account.siteNumber}</dd>
              </>
            )}
          </dl>
          <p class="muted top-gap">
            Your e-mail address is your sign-in name, and your company name is what ties you to your colleagues' accounts, so neither can be changed here. If
            one is wrong, or you changed company, contact {vendorName} customer service.
          </p>
        </div>
      </section>
      <section class="card" aria-label="Change password">
        <div class="card-head">
          <h2>Change password</h2>
        </div>
        <div class="card-body">
          <form method="post" action="/profile/password" class="stack">
            <Csrf token={c.var.csrfToken} />
            <input type="hidden" name="email" value={session.user.email} autocomplete="username" />
            <Field label="Current password" name="currentPassword" type="password" errors={errors} autocomplete="current-password" required />
            <Field label="New password" name="newPassword" type="password" errors={errors} autocomplete="new-password" hint={`At least ${PASSWORD_CHARS_MIN} characters.`} required />
            <Field label="Repeat the new password" name="repeat" type="password" errors={errors} autocomplete="new-password" required />
            <button type="submit">Change password</button>
          </form>
          <p class="muted top-gap">
            Forgot it? <a href="/forgot-password">Get a link by e-mail</a> instead.
          </p>
        </div>
      </section>
    </>,
  );
}

/** The members and profile pages. */
export function accountPages() {
  const app = new Hono<KcEnv>();

  app.get('/members', (c) => membersPage(c));

  app.post('/members', async (c) => {
    const scope = requireScope(c);
    const form = await formOf(c);
    try {
      await addMember(c.var.kc.ctx, { scope }, { email: form['email'], name: form['name'], role: form['role'] });
    } catch (error) {
      if (error instanceof KeyCenterError && error.code === 'FORBIDDEN') throw error;
      return membersPage(c, form, fieldErrorsOf(error, 'form'));
    }
    return c.redirect('/members?done=added', 303);
  });

  app.post('/members/:userId/remove', async (c) => {
    await removeMember(c.var.kc.ctx, requireScope(c), c.req.param('userId'));
    return c.redirect('/members?done=removed', 303);
  });

  app.post('/members/requests/:requestId', async (c) => {
    const approve = (await formOf(c))['decision'] === 'approve';
    await decideJoinRequest(c.var.kc.ctx, requireScope(c), c.req.param('requestId'), approve);
    return c.redirect(`/members?done=${approve ? 'approved' : 'declined'}`, 303);
  });

  app.get('/profile', (c) => profilePage(c));

  app.post('/profile/password', async (c) => {
    const session = requireSession(c);
    const form = await formOf(c);
    if (form['newPassword'] !== form['repeat']) return profilePage(c, { repeat: 'the two passwords differ' });
    try {
      await changePassword(c.var.kc.ctx, session, { current: form['currentPassword'], next: form['newPassword'] });
    } catch (error) {
      return profilePage(c, fieldErrorsOf(error, 'newPassword'));
    }
    return c.redirect('/profile?done=password-changed', 303);
  });

  return app;
}
