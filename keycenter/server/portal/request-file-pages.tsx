// Offline activation in the portal: a person from a site whose license
// servers cannot reach the key center uploads the request file their cluster
// wrote (`floe license request`) and gets the key file back as a download, to
// install with `floe license import --key-file`. Possession of the code
// authorizes it, as on the API, so the page also serves visitors who are not
// signed in; the checks are the API's (activateRequestFile). A refused file
// is shown on the file field with its code.
import { Hono, type Context } from 'hono';
import { ACTIVATION_REQUEST_CHARS_MAX } from '../../../protocol/index.ts';
import { KeyCenterError } from '../../key-center-error.ts';
import { countHit } from '../../rate-limiter.ts';
import { activateRequestFile, requestAnswerFileName } from '../../request-file-activation.ts';
import type { KcEnv } from '../server-env.ts';
import { Csrf, renderAuthPage, renderPage, type PageResponse } from './page.tsx';

/** The page's path. */
export const REQUEST_FILE_PATH = '/activate/request-file';
/** The form field of the file. */
const FILE_FIELD = 'requestFile';
/** The form field of its text, pasted (from an e-mail) instead of uploaded. */
const TEXT_FIELD = 'requestText';

function RequestFileForm({ csrf, error }: { csrf: string; error?: string | undefined }) {
  return (
    <form method="post" action={REQUEST_FILE_PATH} enctype="multipart/form-data">
      <Csrf token={csrf} />
      <div class="field">
        <label for="f-requestFile">Request file</label>
        <input
          id="f-requestFile"
          name={FILE_FIELD}
          type="file"
          accept=".json,application/json"
          aria-invalid={error === undefined ? undefined : 'true'}
          aria-describedby="f-requestFile-hint f-requestFile-error"
        />
        <div class="hint" id="f-requestFile-hint">
          The file <span class="mono">floe license request --code CODE --out request.json</span> wrote on your license servers. It names the authorization code and
          the lock codes of every server, and is signed by one of them.
        </div>
        <div class="error" id="f-requestFile-error" role="alert" hidden={error === undefined}>
          {error ?? ''}
        </div>
      </div>
      <div class="field">
        <label for="f-requestText">or its text, pasted</label>
        <textarea id="f-requestText" name={TEXT_FIELD} rows={4} class="code-input" spellcheck={false}></textarea>
      </div>
      <p class="muted">The key file downloads at once. Sending the same request file again downloads the same key.</p>
      <button type="submit">Get the key file</button>
    </form>
  );
}

/** The upload page, signed in (the portal's frame) or not (a card of its own). */
function uploadPage(c: Context<KcEnv>, error?: string, status: 200 | 400 | 404 | 409 | 410 | 413 | 422 | 429 = 200): PageResponse {
  const title = 'Activate from a request file';
  const lede = 'For license servers with no route to the key center: upload the request file they wrote, then install the key file on them.';
  const form = <RequestFileForm csrf={c.var.csrfToken} error={error} />;
  if (c.var.session !== undefined) {
    return renderPage(c, { title, nav: 'request-file', lede, status }, <div class="card"><div class="card-body">{form}</div></div>);
  }
  return renderAuthPage(c, { title, lede, status }, form);
}

/** The offline activation page. */
export function requestFilePages() {
  const app = new Hono<KcEnv>();
  app.get(REQUEST_FILE_PATH, (c) => uploadPage(c));
  app.post(REQUEST_FILE_PATH, async (c) => {
    const body = await c.req.parseBody();
    const file = body[FILE_FIELD];
    const pasted = body[TEXT_FIELD];
    let text = typeof pasted === 'string' ? pasted.trim() : '';
    if (file instanceof File && file.size > 0) {
      if (file.size > ACTIVATION_REQUEST_CHARS_MAX) return uploadPage(c, `REQUEST_MALFORMED: this file has ${file.size} bytes; a request file has at most ${ACTIVATION_REQUEST_CHARS_MAX}.`, 413);
      text = await file.text();
    }
    if (text === '') return uploadPage(c, 'Choose the request file to upload, or paste its text.', 400);
    const kc = c.var.kc;
    await countHit(kc.ctx, 'activationPerAddress', c.var.address);
    try {
      const answer = await activateRequestFile(kc, text, new URL(c.req.url).origin, { actor: `portal:${c.var.address}` });
      c.header('content-disposition', `attachment; filename="${requestAnswerFileName(answer.licenseId)}"`);
      c.header('content-type', 'application/json; charset=utf-8');
      return c.body(`${JSON.stringify(answer, null, 2)}\n`, 201);
    } catch (error) {
      if (!(error instanceof KeyCenterError) || error.code === 'RATE_LIMITED') throw error;
      const status = ({ UNKNOWN_AUTH_CODE: 404, ALREADY_ACTIVATED: 409, SEATS_EXHAUSTED: 409, ENTITLEMENT_EXPIRED: 410 } as const)[error.code as string] ?? 422;
      return uploadPage(c, `${error.code}: ${error.message}`, status);
    }
  });
  return app;
}
