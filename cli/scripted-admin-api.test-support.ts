// Test support for the CLI's admin commands: a fake admin API on loopback
// that answers each request with the next scripted [status, body] and
// records what it was asked, so a test can say exactly which requests a
// command sent (a retry, a request it must not send).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const servers: Server[] = [];

/** A scripted admin API: its base URL and the requests seen (`METHOD /path`). */
export interface ScriptedAdminApi {
  readonly url: string;
  readonly seen: string[];
}

/** Starts an admin API that answers with `answers`, in order (then 500 INTERNAL); stop it with stopScriptedAdminApis(). */
export async function scriptedAdminApi(answers: [number, unknown][]): Promise<ScriptedAdminApi> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const [status, body] = answers.shift() ?? [500, { error: { code: 'INTERNAL', message: 'script ended' } }];
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** Stops every scripted admin API (afterEach). */
export async function stopScriptedAdminApis(): Promise<void> {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
}
