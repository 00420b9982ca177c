// "My authorization codes": each product line of the account's orders with
// seats entitled, issued and remaining and the codes generated from it; and
// the generation wizard — seats (one code for N users or one per user on an
// authorized-user line), an optional end date, a confirm page with a comment,
// then the new codes, ready to copy or activate.
import { Hono, type Context } from 'hono';
import type { Child } from 'hono/jsx';
import { generateCodes, lineSummaries, lineSummary, type LineSummary } from '../../code-generation.ts';
import { seatsLeft, type Entitlement } from '../../entitlement.ts';
import { lastDayEndMs } from '../../order-input.ts';
import type { KcEnv } from '../server-env.ts';
import { requireScope } from '../session-cookie.ts';
import { fieldErrorsOf, formInteger, formOf } from './form.ts';
import { borrowing, day, lastDay, modelName, productName, seats, term } from './format.ts';
import { Banner, Csrf, Field, renderPage, type FieldErrors, type PageResponse } from './page.tsx';

function lineTitle(s: LineSummary): string {
  return `${s.line.product} ${s.line.version}`;
}

const CodeRows = ({ codes }: { codes: readonly Entitlement[] }) => (
  <table>
    <thead>
      <tr>
        <th>Authorization code</th>
        <th>Component</th>
        <th class="num">Seats</th>
        <th class="num">Activated</th>
        <th>Term</th>
        <th>Comment</th>
        <th></th>
      </tr>
    </thead>
    <tbody>
      {codes.map((e) => {
        const left = seatsLeft(e);
        return (
          <tr>
            <td class="mono nowrap">{e.authCode}</td>
            <td>{e.component ?? '—'}</td>
            <td class="num">{e.seats}</td>
            <td class="num">{e.seatsActivated}</td>
            <td class="nowrap">{term(e.expiresAt)}</td>
            <td>{e.comment ?? ''}</td>
            <td class="num">
              {left > 0 ? (
                <a class="button small" href={`/codes/${e.authCode}/activate`}>
                  Activate
                </a>
              ) : (
                <span class="badge active">Activated</span>
              )}
            </td>
          </tr>
        );
      })}
    </tbody>
  </table>
);

function LineCard({ s }: { s: LineSummary }) {
  const l = s.line;
  return (
    <section class="card" aria-label={`${lineTitle(s)}, order ${s.order.customerOrderNumber} line ${l.lineNo}`}>
      <div class="card-head">
        <div>
          <h2>
            {lineTitle(s)} <span class="badge plain">{modelName(l.model)}</span> {l.expiresAt === null ? null : <span class="badge expired">Temporary</span>}{' '}
            {l.borrowHoursMax === null ? null : <span class="badge info">Borrowable</span>}{' '}
            {s.renews === null ? null : <span class="badge info">Maintenance renewal</span>}
          </h2>
          <div class="sub">
            Order <a href={`/orders/${s.order.orderId}`}>{s.order.customerOrderNumber}</a> · line {l.lineNo}
            {s.order.purchaseOrderNumber === null ? '' : ` · PO ${s.order.purchaseOrderNumber}`} · {term(l.expiresAt)}
            {l.components.length === 0 ? '' : ` · bundle of ${l.components.join(', ')}`}
            {l.borrowHoursMax === null ? '' : ` · ${borrowing(l.borrowHoursMax).toLowerCase()}`}
            {s.renews === null ? '' : ` · renews ${s.renews.product} ${s.renews.version} of order ${s.renews.customerOrderNumber}`}
          </div>
        </div>
        {s.seatsRemaining > 0 && !s.expired ? (
          <a class="button" href={`/lines/${l.lineId}/generate`}>
            Generate codes
          </a>
        ) : null}
      </div>
      <div class="stats">
        <div class="stat">
          <div class="label">{l.model === 'concurrent' ? 'Seats entitled' : 'Users entitled'}</div>
          <div class="value">{s.seatsEntitled}</div>
        </div>
        <div class="stat">
          <div class="label">Issued in codes</div>
          <div class={`value${s.seatsIssued === 0 ? ' zero' : ''}`}>{s.seatsIssued}</div>
        </div>
        <div class="stat">
          <div class="label">Remaining</div>
          <div class={`value${s.seatsRemaining === 0 ? ' zero' : ''}`}>{s.seatsRemaining}</div>
        </div>
      </div>
      {s.codes.length === 0 ? <div class="empty">No codes generated yet.</div> : <CodeRows codes={s.codes} />}
    </section>
  );
}

function generateForm(c: Context<KcEnv>, s: LineSummary, form: Record<string, string>, errors: FieldErrors = {}): PageResponse {
  const l = s.line;
  const authorizedUser = l.model === 'authorized-user';
  return renderPage(
    c,
    {
      title: `Generate codes: ${lineTitle(s)}`,
      nav: 'codes',
      breadcrumb: <a href="/codes">My authorization codes</a>,
      lede: `${modelName(l.model)} · order ${s.order.customerOrderNumber}, line ${l.lineNo} · ${seats(s.seatsRemaining, l.model)} remaining of ${s.seatsEntitled}.`,
      status: Object.keys(errors).length > 0 ? 400 : 200,
    },
    <div class="card">
      <div class="card-body">
        <form method="post" action={`/lines/${l.lineId}/generate`} class="stack">
          <Csrf token={c.var.csrfToken} />
          <Field
            label={authorizedUser ? 'Users' : 'Seats'}
            name="seats"
            type="number"
            min={1}
            max={s.seatsRemaining}
            value={form['seats'] ?? String(s.seatsRemaining)}
            errors={errors}
            hint={`Up to ${s.seatsRemaining}. ${l.components.length === 0 ? '' : `A bundle: one code per component (${l.components.join(', ')}).`}`}
            required
          />
          {authorizedUser ? (
            <fieldset class="field">
              <legend>Codes</legend>
              <label class="choice">
                <input type="radio" name="split" value="one-code" checked={form['split'] !== 'per-user'} />
                <span>
                  One code for all these users
                  <div class="hint">One code to activate on the license server that serves them.</div>
                </span>
              </label>
              <label class="choice">
                <input type="radio" name="split" value="per-user" checked={form['split'] === 'per-user'} />
                <span>
                  One code per user
                  <div class="hint">A code of one user each, to hand out one by one.</div>
                </span>
              </label>
              {errors['split'] === undefined ? null : <div class="error">{errors['split']}</div>}
            </fieldset>
          ) : null}
          <Field
            label="End date (temporary license, optional)"
            name="endDate"
            type="date"
            value={form['endDate']}
            errors={errors}
            errorKey="expiresAt"
            hint={l.expiresAt === null ? 'Leave empty for a perpetual license. A temporary code gives its seats back when it ends.' : `This line ends ${lastDay(l.expiresAt)}; a code cannot run longer.`}
          />
          <div class="actions">
            <button type="submit">Continue</button>
            <a class="button secondary" href="/codes">
              Cancel
            </a>
          </div>
        </form>
      </div>
    </div>,
  );
}

interface GenerateChoice {
  readonly seats: number | undefined;
  readonly split: 'one-code' | 'per-user';
  readonly expiresAt: number | undefined;
  readonly endDate: string | undefined;
}

function choiceOf(form: Record<string, string>): GenerateChoice {
  const endDate = /^\d{4}-\d{2}-\d{2}$/.test(form['endDate'] ?? '') ? form['endDate'] : undefined;
  return { seats: formInteger(form['seats']), split: form['split'] === 'per-user' ? 'per-user' : 'one-code', expiresAt: endDate === undefined ? undefined : lastDayEndMs(endDate), endDate };
}

function confirmPage(c: Context<KcEnv>, s: LineSummary, choice: GenerateChoice, form: Record<string, string>, errors: FieldErrors = {}): PageResponse {
  const l = s.line;
  const n = choice.seats ?? 0;
  const codeCount = (choice.split === 'per-user' ? n : 1) * Math.max(1, l.components.length);
  const rows: [string, Child][] = [
    ['Product', `${lineTitle(s)}${l.components.length === 0 ? '' : ` (bundle: ${l.components.join(', ')})`}`],
    ['Model', modelName(l.model)],
    [l.model === 'concurrent' ? 'Seats' : 'Users', String(n)],
    ['Codes', `${codeCount} code${codeCount === 1 ? '' : 's'}${choice.split === 'per-user' ? ', one per user' : ''}`],
    ['Term', choice.expiresAt === undefined ? term(l.expiresAt) : `Temporary, until ${lastDay(choice.expiresAt)}`],
    ['Borrowing', borrowing(l.borrowHoursMax)],
    ['Order', `${s.order.customerOrderNumber}, line ${l.lineNo}`],
  ];
  return renderPage(
    c,
    { title: 'Confirm the configuration', nav: 'codes', breadcrumb: <a href="/codes">My authorization codes</a>, status: Object.keys(errors).length > 0 ? 400 : 200 },
    <div class="card">
      <div class="card-body">
        {errors['seats'] === undefined && errors['expiresAt'] === undefined && errors['split'] === undefined ? null : (
          <Banner kind="error">{errors['seats'] ?? errors['expiresAt'] ?? errors['split']}</Banner>
        )}
        <dl class="facts">
          {rows.map(([k, v]) => (
            <>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </>
          ))}
        </dl>
        <form method="post" action={`/lines/${l.lineId}/codes`} class="stack">
          <Csrf token={c.var.csrfToken} />
          <input type="hidden" name="seats" value={String(n)} />
          <input type="hidden" name="split" value={choice.split} />
          <input type="hidden" name="endDate" value={choice.endDate ?? ''} />
          <div class="field top-gap">
            <label for="f-comment">Comment (optional)</label>
            <textarea id="f-comment" name="comment" maxlength={500} aria-describedby="f-comment-hint">
              {form['comment'] ?? ''}
            </textarea>
            <div class="hint" id="f-comment-hint">
              Kept with the codes and written into their keys, e.g. who or what they are for.
            </div>
            {errors['comment'] === undefined ? null : <div class="error">{errors['comment']}</div>}
          </div>
          <div class="actions">
            <button type="submit">Create authorization codes</button>
            <a class="button secondary" href={`/lines/${l.lineId}/generate`}>
              Back
            </a>
          </div>
        </form>
      </div>
    </div>,
  );
}

/** The authorization-code pages. */
export function codePages() {
  const app = new Hono<KcEnv>();

  app.get('/codes', async (c) => {
    const scope = requireScope(c);
    const lines = await lineSummaries(c.var.kc.ctx, scope.siteNumber);
    return renderPage(
      c,
      {
        title: 'My authorization codes',
        nav: 'codes',
        lede: 'Every product of your orders, with its seats. Generate authorization codes from the seats that remain, then activate a code on your license server’s lock code to get its license key.',
      },
      lines.length === 0 ? (
        <div class="card">
          <div class="empty">This account has no orders yet.</div>
        </div>
      ) : (
        lines.map((s) => <LineCard s={s} />)
      ),
    );
  });

  app.get('/lines/:lineId/generate', async (c) => {
    const scope = requireScope(c);
    return generateForm(c, await lineSummary(c.var.kc.ctx, scope.siteNumber, c.req.param('lineId')), {});
  });

  app.post('/lines/:lineId/generate', async (c) => {
    const scope = requireScope(c);
    const s = await lineSummary(c.var.kc.ctx, scope.siteNumber, c.req.param('lineId'));
    const form = await formOf(c);
    const choice = choiceOf(form);
    const errors: Record<string, string> = {};
    if (choice.seats === undefined || choice.seats < 1 || choice.seats > s.seatsRemaining) errors['seats'] = `give a whole number from 1 to ${s.seatsRemaining}`;
    if ((form['endDate'] ?? '') !== '' && choice.endDate === undefined) errors['expiresAt'] = 'give the end date as YYYY-MM-DD';
    if (choice.expiresAt !== undefined && choice.expiresAt <= c.var.kc.ctx.clock()) errors['expiresAt'] = 'the end date must be in the future';
    if (choice.expiresAt !== undefined && s.line.expiresAt !== null && choice.expiresAt > s.line.expiresAt) errors['expiresAt'] = `this line ends ${lastDay(s.line.expiresAt)}`;
    if (Object.keys(errors).length > 0) return generateForm(c, s, form, errors);
    return confirmPage(c, s, choice, form);
  });

  app.post('/lines/:lineId/codes', async (c) => {
    const scope = requireScope(c);
    const ctx = c.var.kc.ctx;
    const s = await lineSummary(ctx, scope.siteNumber, c.req.param('lineId'));
    const form = await formOf(c);
    const choice = choiceOf(form);
    let codes: Entitlement[];
    try {
      codes = await generateCodes(ctx, scope, { lineId: s.line.lineId, seats: choice.seats ?? 0, split: choice.split, expiresAt: choice.expiresAt, comment: form['comment'] });
    } catch (error) {
      return confirmPage(c, s, choice, form, fieldErrorsOf(error, 'seats'));
    }
    return renderPage(
      c,
      {
        title: codes.length === 1 ? 'Your authorization code' : 'Your authorization codes',
        nav: 'codes',
        breadcrumb: <a href="/codes">My authorization codes</a>,
        lede: `${lineTitle(s)} · ${codes.length} code${codes.length === 1 ? '' : 's'} created ${day(ctx.clock())}. Copy ${codes.length === 1 ? 'it' : 'them'} into the product's license wizard, send ${codes.length === 1 ? 'it' : 'them'} to your users, or activate here on a license server's lock code.`,
        status: 201,
      },
      <div class="card">
        <ul class="code-list">
          {codes.map((e, i) => (
            <li>
              <span>
                <span class="big-code" id={`code-${i}`}>
                  {e.authCode}
                </span>
                <span class="sub muted">
                  {e.component === null ? '' : `${e.component} · `}
                  {seats(e.seats, e.model)} · {term(e.expiresAt)}
                </span>
              </span>
              <span class="actions tight">
                <button type="button" class="secondary small" data-copy={`code-${i}`} hidden>
                  Copy
                </button>
                <a class="button small" href={`/codes/${e.authCode}/activate`}>
                  Activate
                </a>
              </span>
            </li>
          ))}
        </ul>
      </div>,
    );
  });

  return app;
}
