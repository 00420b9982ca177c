// Licenses: each key with its lock codes, dates and where it came from (its
// order, authorization code and key center); import a key by pasting it or
// choosing its file — a bare key, or the key file a key center answered an
// offline request with (installed with the checks of an activation); remove
// one after a confirmation. Errors of an import show under the field with
// the verifier's code.
import type { Context } from 'hono';
import { licenseKeyFileSchema } from '../../../protocol/index.ts';
import { roleAllows } from '../../admin-role.ts';
import { answer } from '../console-read.ts';
import { Csrf, daysUntil, expiryClass, Page, when, type PageProps } from '../console-page.tsx';
import type { ConsoleDeps, ConsoleEnv } from '../console-env.ts';
import { formOf, pageOf } from '../console-context.ts';

/** Bytes of a license file read from an upload, at most (a key is a few hundred). */
const LICENSE_FILE_BYTES_MAX = 20_000;

async function render(c: Context<ConsoleEnv>, deps: ConsoleDeps, extra: { notice?: string; error?: string; pasted?: string; status?: 200 | 400 | 409 | 422 } = {}) {
  const { api, principal, csrf, reads } = pageOf(c, deps);
  const licenses = await reads.read((q) => api.licenses.$get({ query: q }));
  const canChange = roleAllows(principal.role, 'admin');
  const nowMs = Date.now();
  const frame: PageProps = { title: 'Licenses', nav: 'licenses', principal, csrf, freshness: reads.freshness(), ...(extra.notice !== undefined ? { notice: extra.notice } : {}) };
  return c.html(
    <Page {...frame}>
      <table>
        <thead>
          <tr>
            <th scope="col">License</th>
            <th scope="col">Product</th>
            <th scope="col">Model</th>
            <th scope="col">Seats</th>
            <th scope="col">Status</th>
            <th scope="col">From</th>
            <th scope="col">Ends</th>
            <th scope="col">Came from</th>
            <th scope="col">Lock codes</th>
            {canChange && <th scope="col"></th>}
          </tr>
        </thead>
        <tbody>
          {licenses.map((l) => {
            const days = l.expiresAt === null ? null : daysUntil(l.expiresAt, nowMs);
            return (
              <tr>
                <td class="mono">{l.licenseId}</td>
                <td>
                  {l.product} {l.version}
                  {l.hostDescription !== null && <div class="muted small">{l.hostDescription}</div>}
                </td>
                <td>{l.model}</td>
                <td>{l.seats}</td>
                <td>{l.status}</td>
                <td>{when(l.notBefore)}</td>
                <td class={expiryClass(days)}>{l.expiresAt === null ? 'permanent' : `${when(l.expiresAt)} (${days} days)`}</td>
                <td>
                  <div>{l.orderNumber === null ? 'no order' : `order ${l.orderNumber}`}</div>
                  <div class="mono small">{l.authCode}</div>
                  <div class="muted small">{l.keyCenterUrl === null ? 'imported as a key' : `${l.keyCenterUrl} (${l.activatedVia ?? 'activated'})`}</div>
                </td>
                <td class="mono small">
                  {l.lockCodes.map((code) => (
                    <div>{code}</div>
                  ))}
                </td>
                {canChange && (
                  <td>
                    <a class="button small" href={`/licenses/${encodeURIComponent(l.licenseId)}/remove`} aria-label={`Remove ${l.licenseId}`}>
                      Remove
                    </a>
                  </td>
                )}
              </tr>
            );
          })}
          {licenses.length === 0 && (
            <tr>
              <td colspan={canChange ? 10 : 9} class="muted">
                No license installed.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {canChange && (
        <form method="post" action="/licenses" enctype="multipart/form-data" class="card">
          <h2>Import a license key</h2>
          <Csrf token={csrf} />
          <label for="key">License key (paste it)</label>
          <textarea id="key" name="key" rows={4} aria-invalid={extra.error !== undefined ? 'true' : undefined} aria-describedby={extra.error !== undefined ? 'key-error' : undefined}>
            {extra.pasted ?? ''}
          </textarea>
          <label for="keyFile">or its file</label>
          <input id="keyFile" name="keyFile" type="file" accept=".lic,.license,.txt,.json,text/plain,application/json" />
          {extra.error !== undefined && (
            <p id="key-error" class="field-error" role="alert">
              {extra.error}
            </p>
          )}
          <button type="submit">Import</button>
        </form>
      )}
    </Page>,
    extra.status ?? 200,
  );
}

/** GET /licenses */
export function licensesPage(c: Context<ConsoleEnv>, deps: ConsoleDeps) {
  const removed = c.req.query('removed');
  return render(c, deps, removed !== undefined ? { notice: `Removed ${removed}.` } : {});
}

/** POST /licenses: import a pasted or uploaded key. */
export async function importLicenseSubmit(c: Context<ConsoleEnv>, deps: ConsoleDeps) {
  const form = await formOf(c);
  let key = typeof form['key'] === 'string' ? form['key'].trim() : '';
  const file = form['keyFile'];
  if (key === '' && file instanceof File && file.size > 0) {
    if (file.size > LICENSE_FILE_BYTES_MAX) return render(c, deps, { error: `BAD_REQUEST: the file has ${file.size} bytes; a license key has at most ${LICENSE_FILE_BYTES_MAX}.`, status: 400 });
    key = (await file.text()).trim();
  }
  if (key === '') return render(c, deps, { error: 'BAD_REQUEST: paste a license key or choose its file.', status: 400 });
  if (key.startsWith('{')) return importKeyFile(c, deps, key);
  const res = await c.var.api.licenses.$post({ json: { key } });
  if (!res.ok) {
    const body = (await res.json()) as { error: { code: string; message: string } };
    const status = res.status === 409 || res.status === 422 ? res.status : 400;
    return render(c, deps, { error: `${body.error.code}: ${body.error.message}`, pasted: key, status });
  }
  const ok = await res.json();
  return render(c, deps, { notice: `Imported ${ok.licenseId} (${ok.features.join(', ')}).` });
}

/** A key center's key file (the answer to an offline request): POST /licenses/key-file. */
async function importKeyFile(c: Context<ConsoleEnv>, deps: ConsoleDeps, text: string) {
  let file: ReturnType<typeof licenseKeyFileSchema.safeParse>;
  try {
    file = licenseKeyFileSchema.safeParse(JSON.parse(text));
  } catch {
    return render(c, deps, { error: 'BAD_REQUEST: this text starts like a key file but is not JSON.', status: 400 });
  }
  if (!file.success) return render(c, deps, { error: 'BAD_REQUEST: this is not a key file of a Floe key center, nor a license key.', status: 400 });
  const res = await c.var.api.licenses['key-file'].$post({ json: file.data });
  if (!res.ok) {
    const body = (await res.json()) as { error: { code: string; message: string } };
    const status = res.status === 409 || res.status === 422 ? res.status : 400;
    return render(c, deps, { error: `${body.error.code}: ${body.error.message}`, status });
  }
  const ok = await res.json();
  return render(c, deps, { notice: `Imported ${ok.licenseId} (${ok.features.join(', ')}) from ${ok.keyCenterUrl}.` });
}

/** GET /licenses/:licenseId/remove: confirm. */
export async function removeLicenseConfirm(c: Context<ConsoleEnv>, deps: ConsoleDeps) {
  const { principal, csrf, reads } = pageOf(c, deps);
  const licenseId = c.req.param('licenseId') ?? '';
  return c.html(
    <Page title="Remove a license" nav="licenses" principal={principal} csrf={csrf} freshness={reads.freshness()}>
      <form method="post" action={`/licenses/${encodeURIComponent(licenseId)}/remove`} class="card">
        <Csrf token={csrf} />
        <p>
          Remove <span class="mono">{licenseId}</span>? Its seats leave the pools; leases beyond the remaining seats are revoked (their holders are told).
        </p>
        <div class="actions">
          <button type="submit" class="danger">
            Remove the license
          </button>
          <a href="/licenses">Cancel</a>
        </div>
      </form>
    </Page>,
  );
}

/** POST /licenses/:licenseId/remove */
export async function removeLicenseSubmit(c: Context<ConsoleEnv>, _deps: ConsoleDeps) {
  await formOf(c);
  const licenseId = c.req.param('licenseId') ?? '';
  await answer(c.var.api.licenses[':licenseId'].$delete({ param: { licenseId } }));
  return c.redirect(`/licenses?removed=${encodeURIComponent(licenseId)}`, 303);
}
