// The interactive API reference: Swagger UI (served from the swagger-ui-dist
// package, no CDN) over this node's /api/v1/openapi.json, which is generated
// from the routes' own zod schemas. "Try it out" calls the API with this
// browser's console session (console.js adds the CSRF token to changes).
import type { Context } from 'hono';
import { Page } from '../console-page.tsx';
import type { ConsoleDeps, ConsoleEnv } from '../console-env.ts';
import { pageOf } from '../console-context.ts';

/** GET /api-reference */
export function apiReferencePage(c: Context<ConsoleEnv>, deps: ConsoleDeps) {
  const { principal, csrf, reads } = pageOf(c, deps);
  return c.html(
    <Page title="API reference" nav="api" principal={principal} csrf={csrf} freshness={reads.freshness()} scripts={['/assets/swagger-ui.css', '/assets/swagger-ui-bundle.js']}>
      <p class="muted">
        Every route of <span class="mono">/api/v1</span>, from <a href="/api/v1/openapi.json">openapi.json</a>. Calls made here use your console session ({principal.name}, {principal.role}); a script sends <span class="mono">Authorization: Bearer TOKEN</span> instead.
      </p>
      <div id="swagger-ui" data-api-reference></div>
    </Page>,
  );
}
