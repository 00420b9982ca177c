// The sign-in page: one field, the admin token. Nothing else is shown
// before sign-in (no cluster data to a stranger).
import type { FC } from 'hono/jsx';
import { Document } from '../console-page.tsx';

/** The sign-in form; `error` under the field after a refused token. */
export const LoginPage: FC<{ next: string; error?: string }> = ({ next, error }) => (
  <Document title="Sign in">
    <main class="narrow">
      <div class="card">
        <h1>
          <span class="brand-mark" aria-hidden="true">
            F
          </span>{' '}
          Floe console
        </h1>
        <p class="muted">
          Sign in with an admin token of this cluster (<code>floe token create</code>, or the demo's admin-token file).
        </p>
        <form method="post" action="/login" class="stacked">
          <input type="hidden" name="next" value={next} />
          <label for="token">Admin token</label>
          <input id="token" name="token" type="password" autocomplete="current-password" required aria-invalid={error !== undefined ? 'true' : undefined} aria-describedby={error !== undefined ? 'token-error' : undefined} />
          {error !== undefined && (
            <p id="token-error" class="field-error" role="alert">
              {error}
            </p>
          )}
          <button type="submit">Sign in</button>
        </form>
        <p class="muted small">The console keeps a session cookie (Secure, HttpOnly): use it over HTTPS, or on this machine's loopback address.</p>
      </div>
    </main>
  </Document>
);
