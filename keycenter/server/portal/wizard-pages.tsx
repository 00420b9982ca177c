// The activation wizard: an authorization code becomes a license key.
// Step 1 — where it goes: a new license host (one lock code, or three with the
// "+" for a redundant license; an optional host description), or an existing
// host serving the same product and version (its key is superseded by one
// with the summed seats). Lock codes are checked with their check character,
// a typo shown on its field. Step 2 — confirm, with a comment. Then the key:
// shown, downloadable, and e-mailed to the member.
import { Hono, type Context } from 'hono';
import type { Child } from 'hono/jsx';
import { TOLERANT_LOCK_CODE_CHARS } from '../../../protocol/index.ts';
import { checkLockCodes, HOST_DESCRIPTION_CHARS_MAX } from '../../activation.ts';
import { codeOf } from '../../code-generation.ts';
import { seatsLeft, type Entitlement } from '../../entitlement.ts';
import { optionalText } from '../../input-checks.ts';
import type { IssuedKey } from '../../issued-key.ts';
import type { AccountScope } from '../../key-center-context.ts';
import { memberActor } from '../../key-center-context.ts';
import { KeyCenterError } from '../../key-center-error.ts';
import type { KcEnv } from '../server-env.ts';
import { requireScope } from '../session-cookie.ts';
import { formInteger, formOf } from './form.ts';
import { borrowing, modelName, productName, seats, term } from './format.ts';
import { Banner, Csrf, Field, renderPage, type FieldErrors, type PageResponse } from './page.tsx';

/** Lock-code fields the form shows at most (three: a redundant license). */
const LOCK_CODE_FIELDS = 3;
/** What a lock code looks like (the current form; the parser also reads the older, shorter one). */
const LOCK_CODE_PLACEHOLDER = Array.from({ length: TOLERANT_LOCK_CODE_CHARS / 5 }, () => 'XXXXX').join('-');

/** What the member chose in step 1, as the forms carry it. */
interface Choice {
  readonly hostMode: 'new' | 'existing';
  readonly servers: 1 | 3;
  readonly lockCodes: string[];
  readonly hostDescription: string;
  readonly licenseId: string;
  readonly seats: string;
  readonly comment: string;
}

function choiceOf(form: Record<string, string>): Choice {
  const lockCodes = Array.from({ length: LOCK_CODE_FIELDS }, (_, i) => (form[`lockCode${i}`] ?? '').trim());
  return {
    hostMode: form['hostMode'] === 'existing' ? 'existing' : 'new',
    servers: form['servers'] === '3' || lockCodes.slice(1).some((l) => l !== '') ? 3 : 1,
    lockCodes,
    hostDescription: form['hostDescription'] ?? '',
    licenseId: form['licenseId'] ?? '',
    seats: form['seats'] ?? '',
    comment: form['comment'] ?? '',
  };
}

/** Active keys of the account on hosts this code's seats could be added to (same product, version, model, term). */
async function compatibleHosts(c: Context<KcEnv>, scope: AccountScope, e: Entitlement): Promise<IssuedKey[]> {
  const keys = await c.var.kc.listKeys({ siteNumber: scope.siteNumber });
  return keys.filter(
    (k) => k.status === 'active' && k.product === e.product && k.version === e.version && k.component === e.component && k.model === e.model && k.expiresAt === e.expiresAt,
  );
}

function hostLabel(k: IssuedKey): string {
  const where = k.lockCodes.length === 1 ? `1 server, ${k.lockCodes[0]}` : `${k.lockCodes.length} servers, ${k.lockCodes.join(', ')}`;
  return `${k.hostDescription ?? 'No description'} — ${where} — ${seats(k.seats, k.model)} in ${k.licenseId}`;
}

function CodeSummary({ e }: { e: Entitlement }) {
  return (
    <dl class="facts">
      <dt>Authorization code</dt>
      <dd class="mono">{e.authCode}</dd>
      <dt>Product</dt>
      <dd>{productName(e.product, e.version, e.component)}</dd>
      <dt>License</dt>
      <dd>
        {modelName(e.model)} · {seats(e.seats, e.model)} · {term(e.expiresAt)}
      </dd>
      <dt>Borrowing</dt>
      <dd>{borrowing(e.borrowHoursMax)}</dd>
      {e.model === 'authorized-user' ? (
        <>
          <dt>Users left to issue</dt>
          <dd>{seatsLeft(e)}</dd>
        </>
      ) : null}
      {e.orderNumber === null ? null : (
        <>
          <dt>Order</dt>
          <dd>{e.orderNumber}</dd>
        </>
      )}
    </dl>
  );
}

function stepOne(c: Context<KcEnv>, e: Entitlement, hosts: readonly IssuedKey[], choice: Choice, errors: FieldErrors = {}, banner?: string): PageResponse {
  const redundant = choice.servers === 3 || c.req.query('servers') === '3';
  const existing = choice.hostMode === 'existing' && hosts.length > 0;
  const lockFields: Child[] = choice.lockCodes.map((value, i) => {
    const field = (
      <Field
        label={i > 0 || redundant ? `Lock code of server ${i + 1}` : 'Lock code'}
        name={`lockCode${i}`}
        value={value}
        errors={errors}
        code
        lockCode
        placeholder={LOCK_CODE_PLACEHOLDER}
        hint={i === 0 ? 'Run "floe lockcode" on the license server; its last line is the lock code. Case, spaces and dashes do not matter.' : undefined}
      />
    );
    return i === 0 ? field : <div data-extra-lock-code hidden={!redundant}>{field}</div>;
  });
  return renderPage(
    c,
    {
      title: 'Activate an authorization code',
      nav: 'codes',
      breadcrumb: <a href="/codes">My authorization codes</a>,
      lede: 'A license key binds the code to the lock code of your license server — or of your three redundant servers.',
      status: Object.keys(errors).length > 0 || banner !== undefined ? 400 : 200,
    },
    <>
      {banner === undefined ? null : <Banner kind="error">{banner}</Banner>}
      <div class="card">
        <div class="card-body">
          <CodeSummary e={e} />
        </div>
      </div>
      <div class="card">
        <div class="card-body">
          <form method="post" action={`/codes/${e.authCode}/activate`} class="stack">
            <Csrf token={c.var.csrfToken} />
            <input type="hidden" name="servers" value={redundant ? '3' : '1'} />
            {hosts.length === 0 ? (
              <input type="hidden" name="hostMode" value="new" />
            ) : (
              <fieldset class="field">
                <legend>Where does the license go?</legend>
                <label class="choice">
                  <input type="radio" name="hostMode" value="new" checked={!existing} />
                  <span>A new license host</span>
                </label>
                <label class="choice">
                  <input type="radio" name="hostMode" value="existing" checked={existing} />
                  <span>
                    Add to an existing license host
                    <div class="hint">The host's key is replaced by one with its seats and these together.</div>
                  </span>
                </label>
              </fieldset>
            )}
            <div data-host-mode="new" class={hosts.length === 0 ? undefined : 'section-box'}>
              <div class="lock-codes">{lockFields}</div>
              {redundant ? null : (
                <a class="button secondary small add-lock-codes" href={`/codes/${e.authCode}/activate?servers=3`} data-add-lock-codes>
                  + Redundant license: add two more lock codes
                </a>
              )}
              {errors['lockCodes'] === undefined ? null : <div class="error field">{errors['lockCodes']}</div>}
              <Field
                label="Host description (optional)"
                name="hostDescription"
                value={choice.hostDescription}
                errors={errors}
                hint={'Free text to recognize the host later, e.g. "License server, Minneapolis data center".'}
              />
            </div>
            {hosts.length === 0 ? null : (
              <div data-host-mode="existing" class="section-box">
                <div class="field">
                  <label for="f-licenseId">Existing license host</label>
                  <select id="f-licenseId" name="licenseId" aria-invalid={errors['licenseId'] === undefined ? undefined : 'true'}>
                    {hosts.map((k) => (
                      <option value={k.licenseId} selected={k.licenseId === choice.licenseId}>
                        {hostLabel(k)}
                      </option>
                    ))}
                  </select>
                  <div class="hint">Hosts with a license for {productName(e.product, e.version, e.component)}.</div>
                  {errors['licenseId'] === undefined ? null : <div class="error">{errors['licenseId']}</div>}
                </div>
              </div>
            )}
            {e.model === 'authorized-user' ? (
              <Field label="Users in this key" name="seats" type="number" min={1} max={seatsLeft(e)} value={choice.seats === '' ? String(seatsLeft(e)) : choice.seats} errors={errors} />
            ) : null}
            <div class="actions">
              <button type="submit">Continue</button>
              <a class="button secondary" href="/codes">
                Cancel
              </a>
            </div>
          </form>
        </div>
      </div>
    </>,
  );
}

/** Step 1's checks; the field errors (the keys are the form's input names), or the canonical lock codes. */
function checkStepOne(e: Entitlement, hosts: readonly IssuedKey[], choice: Choice): { errors: FieldErrors; lockCodes: string[] } {
  const errors: Record<string, string> = {};
  let lockCodes: string[] = [];
  if (choice.hostMode === 'existing') {
    if (!hosts.some((k) => k.licenseId === choice.licenseId)) errors['licenseId'] = 'choose one of the hosts listed';
  } else {
    const given = choice.lockCodes.map((value, index) => ({ value, index })).filter((l) => l.value !== '');
    const wanted = choice.servers;
    if (given.length !== wanted) {
      for (const [i, value] of choice.lockCodes.entries()) if (i < wanted && value === '') errors[`lockCode${i}`] = 'enter the lock code';
    } else {
      try {
        lockCodes = checkLockCodes(given.map((l) => l.value));
      } catch (error) {
        if (!(error instanceof KeyCenterError)) throw error;
        const at = /^lockCodes\.(\d+)$/.exec(error.field ?? '');
        errors[at === null ? 'lockCodes' : `lockCode${given[Number(at[1])]!.index}`] = `${error.code}: ${error.message}`;
      }
    }
    try {
      optionalText(choice.hostDescription, 'host description', HOST_DESCRIPTION_CHARS_MAX);
    } catch (error) {
      errors['hostDescription'] = (error as Error).message;
    }
  }
  if (e.model === 'authorized-user') {
    const n = formInteger(choice.seats);
    if (n === undefined || n < 1 || n > seatsLeft(e)) errors['seats'] = `give a whole number from 1 to ${seatsLeft(e)}`;
  }
  return { errors, lockCodes };
}

function confirmPage(c: Context<KcEnv>, e: Entitlement, hosts: readonly IssuedKey[], choice: Choice, lockCodes: readonly string[]): PageResponse {
  const host = hosts.find((k) => k.licenseId === choice.licenseId);
  const n = e.model === 'authorized-user' ? Number(choice.seats) : e.seats;
  const rows: [string, Child][] =
    choice.hostMode === 'existing' && host !== undefined
      ? [
          ['Host', host.hostDescription ?? 'No description'],
          ['Lock codes', <div class="lock-code-list">{host.lockCodes.map((l) => <div>{l}</div>)}</div>],
          ['Seats', `${host.seats} now + ${n} from this code = ${host.seats + n} in the new key`],
          ['Replaces', host.licenseId],
        ]
      : [
          ['Host', choice.hostDescription === '' ? 'No description' : choice.hostDescription],
          [lockCodes.length === 1 ? 'Lock code' : 'Lock codes (redundant)', <div class="lock-code-list">{lockCodes.map((l) => <div>{l}</div>)}</div>],
          [e.model === 'concurrent' ? 'Seats' : 'Users', String(n)],
        ];
  return renderPage(
    c,
    { title: 'Confirm the activation', nav: 'codes', breadcrumb: <a href="/codes">My authorization codes</a> },
    <div class="card">
      <div class="card-body">
        <dl class="facts">
          <dt>Product</dt>
          <dd>{productName(e.product, e.version, e.component)}</dd>
          <dt>Authorization code</dt>
          <dd class="mono">{e.authCode}</dd>
          {rows.map(([k, v]) => (
            <>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </>
          ))}
          <dt>Term</dt>
          <dd>{term(e.expiresAt)}</dd>
        </dl>
        <form method="post" action={`/codes/${e.authCode}/activations`} class="stack top-gap">
          <Csrf token={c.var.csrfToken} />
          <input type="hidden" name="hostMode" value={choice.hostMode} />
          <input type="hidden" name="servers" value={String(choice.servers)} />
          {lockCodes.map((l, i) => (
            <input type="hidden" name={`lockCode${i}`} value={l} />
          ))}
          <input type="hidden" name="hostDescription" value={choice.hostDescription} />
          <input type="hidden" name="licenseId" value={choice.licenseId} />
          <input type="hidden" name="seats" value={choice.seats} />
          <div class="field">
            <label for="f-comment">Comment (optional)</label>
            <textarea id="f-comment" name="comment" maxlength={500} aria-describedby="f-comment-hint">
              {choice.comment}
            </textarea>
            <div class="hint" id="f-comment-hint">
              Written into the key and shown with it.
            </div>
          </div>
          <div class="actions">
            <button type="submit">Activate</button>
            <a class="button secondary" href={`/codes/${e.authCode}/activate`}>
              Back
            </a>
          </div>
        </form>
      </div>
    </div>,
  );
}

/** The activation wizard's pages. */
export function wizardPages() {
  const app = new Hono<KcEnv>();

  const load = async (c: Context<KcEnv>) => {
    const scope = requireScope(c);
    const e = await codeOf(c.var.kc.ctx, scope.siteNumber, c.req.param('authCode') ?? '');
    return { scope, e, hosts: await compatibleHosts(c, scope, e) };
  };

  app.get('/codes/:authCode/activate', async (c) => {
    const { e, hosts } = await load(c);
    if (seatsLeft(e) <= 0) {
      return renderPage(
        c,
        { title: 'Already activated', nav: 'codes', breadcrumb: <a href="/codes">My authorization codes</a>, status: 409 },
        <div class="card">
          <div class="card-body">
            <p>Every seat of code {e.authCode} is in a license key already. Find its keys under <a href="/hosts">View codes by host</a>.</p>
          </div>
        </div>,
      );
    }
    return stepOne(c, e, hosts, choiceOf({}));
  });

  app.post('/codes/:authCode/activate', async (c) => {
    const { e, hosts } = await load(c);
    const choice = choiceOf(await formOf(c));
    const { errors, lockCodes } = checkStepOne(e, hosts, choice);
    if (Object.keys(errors).length > 0) return stepOne(c, e, hosts, choice, errors);
    return confirmPage(c, e, hosts, choice, lockCodes);
  });

  app.post('/codes/:authCode/activations', async (c) => {
    const { scope, e, hosts } = await load(c);
    const choice = choiceOf(await formOf(c));
    const { errors, lockCodes } = checkStepOne(e, hosts, choice);
    if (Object.keys(errors).length > 0) return stepOne(c, e, hosts, choice, errors);
    const options = { actor: memberActor(scope), scope, mailTo: scope.email };
    const seatsWanted = e.model === 'authorized-user' ? formInteger(choice.seats) : undefined;
    let key: IssuedKey;
    try {
      key =
        choice.hostMode === 'existing'
          ? await c.var.kc.addSeatsToHost({ authCode: e.authCode, licenseId: choice.licenseId, seats: seatsWanted, comment: choice.comment }, options)
          : await c.var.kc.activate({ authCode: e.authCode, lockCodes, hostDescription: choice.hostDescription, seats: seatsWanted, comment: choice.comment }, options);
    } catch (error) {
      if (!(error instanceof KeyCenterError) || error.code === 'NOT_FOUND') throw error;
      return stepOne(c, e, hosts, choice, {}, `${error.code}: ${error.message}`);
    }
    return c.redirect(`/keys/${key.licenseId}?issued=1`, 303);
  });

  return app;
}
