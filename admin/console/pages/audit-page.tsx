// Audit: every change an admin token asked for, newest first, in pages
// (GET /api/v1/audit).
import type { Context } from 'hono';
import { Page, when } from '../console-page.tsx';
import type { ConsoleDeps, ConsoleEnv } from '../console-env.ts';
import { pageOf } from '../console-context.ts';

/** GET /audit?before=SEQ */
export async function auditPage(c: Context<ConsoleEnv>, deps: ConsoleDeps) {
  const { api, principal, csrf, reads } = pageOf(c, deps);
  const before = c.req.query('before');
  const page = await reads.read((q) => api.audit.$get({ query: { ...q, limit: '100', ...(before !== undefined && /^\d+$/.test(before) ? { before } : {}) } }));
  return c.html(
    <Page title="Audit log" nav="audit" principal={principal} csrf={csrf} freshness={reads.freshness()}>
      <table>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Token</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Detail</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {page.entries.map((e) => (
            <tr>
              <td>{when(e.at)}</td>
              <td>{e.actor}</td>
              <td>{e.action}</td>
              <td class="mono">{e.target}</td>
              <td>{e.detail}</td>
              <td>{e.ok ? 'done' : <span class="badge bad">{e.code}</span>}</td>
            </tr>
          ))}
          {page.entries.length === 0 && (
            <tr>
              <td colspan={6} class="muted">
                No change made with an admin token yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {page.nextBefore !== null && (
        <p>
          <a href={`/audit?before=${page.nextBefore}`}>Older entries</a>
        </p>
      )}
    </Page>,
  );
}
