// `floe demo --dir DIR [--nodes 1|3|5] [--seats N] [--base-port P] [--init-only] [--detach] [--tls]`:
// everything a first look needs, created once under DIR and reused after: a
// vendor key center, node identities, one config file per node (with a
// [cluster] section listing every node when there are several), a license
// for feature "demo" locked to ALL the nodes' lock codes (one redundant
// key, issued by the key center from the demo account's order), an admin
// token. Ports: clients P+1…, admin P+101…, the key center P+200, peers
// P+201…. Then it starts the nodes and the key center's portal as separate
// processes (logs in DIR/<node>.log and DIR/keycenter.log), prints the demo
// member's sign-in on stderr, and as the last line of stdout a JSON summary
// with their URLs and pids. It stays in the foreground and stops them all on
// Ctrl-C, unless --detach. With --tls: a site CA and a certificate per node
// under DIR/tls, every node on wss:// and https:// with mutual TLS between
// peers, and `caFile` in the JSON.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hashToken } from '../admin/index.ts';
import { loadNodeIdentity } from '../daemon/identity/index.ts';
import { ensurePrivateDir, makeTreePrivate, PRIVATE_FILE_MODE, writePrivateFile } from '../daemon/private-files.ts';
import { hasVendorKey, initKeyCenter, KeyCenter } from '../keycenter/index.ts';
import { DEMO_SITE_NUMBER, ensureDemoAccount, issueDemoKey, writeDemoKeyCenterConfig } from './demo-key-center.ts';
import { encodeBase64url, verifyLicenseKey, parseVendorPublicKey } from '../protocol/index.ts';
import { run as runTls } from './tls.ts';

/** The SDK's example client (docs/client.md), which the demo tells how to run against it. */
const CHECKOUT_DEMO = fileURLToPath(new URL('../client/examples/checkout-demo.ts', import.meta.url));

const USAGE = 'usage: floe demo --dir DIR [--nodes 1|3|5] [--seats N] [--base-port P] [--init-only] [--detach] [--tls]';
const FEATURE = 'demo';
/** `ms` to wait for a started node to answer /health. */
const NODE_START_MS_MAX = 30_000;

interface DemoNode {
  id: string;
  config: string;
  clientUrl: string;
  adminUrl: string;
  pid?: number;
}

function fail(code: string, message: string, exit = 1): number {
  process.stderr.write(`${code}: ${message}\n`);
  return exit;
}

function tomlString(s: string): string {
  return JSON.stringify(s);
}

/** Runs `floe demo`; answers the exit code. */
export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        dir: { type: 'string' },
        nodes: { type: 'string', default: '1' },
        seats: { type: 'string', default: '10' },
        'base-port': { type: 'string', default: '7400' },
        'init-only': { type: 'boolean', default: false },
        detach: { type: 'boolean', default: false },
        tls: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    return fail('BAD_REQUEST', `${(error as Error).message}\n${USAGE}`, 2);
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.dir === undefined) return fail('BAD_REQUEST', `--dir is required\n${USAGE}`, 2);
  const nodeCount = Number(values.nodes);
  const seats = Number(values.seats);
  const basePort = Number(values['base-port']);
  if (![1, 3, 5].includes(nodeCount)) return fail('BAD_REQUEST', '--nodes is 1, 3 or 5', 2);
  if (!Number.isInteger(seats) || seats < 1 || seats > 1_000_000) return fail('BAD_REQUEST', '--seats is a whole number from 1', 2);
  if (!Number.isInteger(basePort) || basePort < 1 || basePort + 200 + nodeCount > 65_535) return fail('BAD_REQUEST', '--base-port is a port number', 2);

  // Everything under DIR is private (0600 files, 0700 directories), whatever the umask.
  const dir = resolve(values.dir);
  ensurePrivateDir(dir);

  // Vendor key center.
  const kcDir = join(dir, 'keycenter');
  ensurePrivateDir(kcDir);
  if (!hasVendorKey(kcDir)) initKeyCenter(kcDir);
  const keyCenterUrl = `http://127.0.0.1:${basePort + 200}`;
  writeDemoKeyCenterConfig(kcDir, keyCenterUrl);
  const kc = await KeyCenter.open(kcDir);
  let demoSignIn: { email: string; password: string };
  let nodes: DemoNode[];
  let adminToken: string;
  let licenseSeats = seats;
  const tls = values.tls === true;
  const tlsDir = join(dir, 'tls');
  const caFile = join(tlsDir, 'ca.crt');
  const ws = tls ? 'wss' : 'ws';
  const http = tls ? 'https' : 'http';
  try {
    // Node identities and lock codes.
    const ids = Array.from({ length: nodeCount }, (_, i) => `n${i + 1}`);
    const identities = ids.map((id) => loadNodeIdentity(join(dir, id)));
    const lockCodes = identities.map((identity) => identity.lockCode);

    // Admin token, kept in a file readable by its owner only; configs hold only its digest.
    const tokenPath = join(dir, 'admin-token');
    if (!existsSync(tokenPath)) writeFileSync(tokenPath, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    adminToken = readFileSync(tokenPath, 'utf8').trim();

    // The demo account in the key center, with a member who can sign in to its portal.
    demoSignIn = await ensureDemoAccount(kc, dir);

    // The demo license, reused while it is valid for these nodes.
    const licensePath = join(dir, 'demo.license');
    const vendorKey = parseVendorPublicKey(kc.publicKeyText)!;
    let reuse = false;
    if (existsSync(licensePath)) {
      const verdict = verifyLicenseKey(readFileSync(licensePath, 'utf8'), { vendorKeys: [vendorKey], nowMs: Date.now() });
      // Reused when it fits these nodes and is the demo account's key in force (a 0.1 demo's key is not).
      const inForce = verdict.ok && (await kc.listKeys({ siteNumber: DEMO_SITE_NUMBER })).some((k) => k.licenseId === verdict.license.licenseId && k.status === 'active');
      if (verdict.ok && inForce && lockCodes.every((l) => verdict.license.lockCodes.includes(l))) {
        reuse = true;
        licenseSeats = verdict.license.seats;
      }
    }
    if (!reuse) {
      const key = await issueDemoKey(kc, { product: FEATURE, seats, lockCodes, hostDescription: `floe demo in ${dir}` });
      writePrivateFile(licensePath, `${key.keyText}\n`);
    }

    // --tls: a site CA and one certificate per node (localhost, 127.0.0.1), made once and reused.
    if (tls) {
      const quiet = { stdout: () => {}, stderr: () => {} };
      if (!existsSync(join(tlsDir, 'ca.key')) && (await runTls(['init', '--dir', tlsDir, '--name', 'Floe demo site CA'], quiet)) !== 0) throw new Error('floe tls init failed');
      for (const id of ids) {
        if (existsSync(join(tlsDir, `${id}.crt`)) && existsSync(join(tlsDir, `${id}.key`))) continue;
        if ((await runTls(['issue', '--dir', tlsDir, '--node', id, '--dns', 'localhost', '--ip', '127.0.0.1'], quiet)) !== 0) throw new Error(`floe tls issue --node ${id} failed`);
      }
    }
    const tlsLines = (id: string) => (tls ? ['', '[tls]', `certFile = ${tomlString(`tls/${id}.crt`)}`, `keyFile = ${tomlString(`tls/${id}.key`)}`, 'caFile = "tls/ca.crt"'] : []);

    // One config file per node; a cluster lists every member (same list everywhere).
    const peerLines =
      nodeCount === 1
        ? []
        : [
            '',
            '[cluster]',
            `peerListen = "127.0.0.1:${basePort + 201}"`,
            'peers = [',
            ...ids.map(
              (id, i) =>
                `  { id = ${tomlString(id)}, peerUrl = "${ws}://127.0.0.1:${basePort + 201 + i}/raft", clientUrl = "${ws}://127.0.0.1:${basePort + 1 + i}/ws", publicKey = ${tomlString(encodeBase64url(identities[i]!.publicKey))} },`,
            ),
            ']',
          ];
    nodes = ids.map((id, i) => {
      const clientPort = basePort + 1 + i;
      const adminPort = basePort + 101 + i;
      const config = join(dir, `${id}.toml`);
      writePrivateFile(
        config,
        [
          `# floe demo node ${id}; every option is described in docs/config.md`,
          `nodeId = ${tomlString(id)}`,
          `dataDir = ${tomlString(id)}`,
          `clientListen = "127.0.0.1:${clientPort}"`,
          `adminListen = "127.0.0.1:${adminPort}"`,
          `vendorPublicKeys = [${tomlString(kc.publicKeyText)}]`,
          `keyCenterUrl = ${tomlString(keyCenterUrl)}`,
          `licenseFiles = ["demo.license"]`,
          `adminTokenSha256 = [${tomlString(hashToken(adminToken))}]`,
          ...tlsLines(id),
          ...peerLines.map((line) => (line.startsWith('peerListen') ? `peerListen = "127.0.0.1:${basePort + 201 + i}"` : line)),
          '',
        ].join('\n'),
      );
      return { id, config, clientUrl: `${ws}://127.0.0.1:${clientPort}/ws`, adminUrl: `${http}://127.0.0.1:${adminPort}` };
    });
  } finally {
    await kc.close();
  }
  // The key center's own files (its store, its public key), and anything an older version left, were written with the umask's modes.
  makeTreePrivate(dir);

  let keyCenter: { url: string; pid: number } | undefined;
  const ca = tls ? readFileSync(caFile, 'utf8') : undefined;
  const summary = () => ({ nodes, adminToken, feature: FEATURE, seats: licenseSeats, ...(tls ? { caFile } : {}), ...(keyCenter === undefined ? {} : { keyCenterUrl: keyCenter.url, keyCenterPid: keyCenter.pid }) });
  if (values['init-only']) {
    process.stdout.write(`${JSON.stringify(summary())}\n`);
    return 0;
  }

  // Start the nodes as separate processes.
  const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'floe.js');
  const children: ChildProcess[] = [];
  const stopAll = async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((r) => {
            if (c.exitCode !== null || c.signalCode !== null) return r();
            c.once('exit', () => r());
            c.kill('SIGTERM');
          }),
      ),
    );
  };
  try {
    for (const n of nodes) {
      const logFd = openSync(join(dir, `${n.id}.log`), 'a', PRIVATE_FILE_MODE);
      const child = spawn(process.execPath, [bin, 'serve', '--config', n.config], {
        cwd: dir,
        stdio: ['ignore', logFd, logFd],
        detached: true,
      });
      closeSync(logFd);
      children.push(child);
      n.pid = child.pid!;
    }
    const logFd = openSync(join(dir, 'keycenter.log'), 'a', PRIVATE_FILE_MODE);
    const kcChild = spawn(process.execPath, [bin, 'keycenter', 'serve', '--dir', kcDir, '--listen', `127.0.0.1:${basePort + 200}`], {
      cwd: dir,
      stdio: ['ignore', logFd, logFd],
      detached: true,
    });
    closeSync(logFd);
    children.push(kcChild);
    keyCenter = { url: keyCenterUrl, pid: kcChild.pid! };
    for (const n of nodes) await waitHealthy(n, children[nodes.indexOf(n)]!, ca);
    await waitAnswers(`${keyCenterUrl}/api/v1/health`, 'the key center', kcChild);
    await waitInForce(nodes, adminToken, children, ca);
  } catch (error) {
    await stopAll();
    return fail('UNAVAILABLE', `${(error as Error).message} (see ${join(dir, '*.log')})`);
  }
  process.stderr.write(
    `demo running: ${nodes.map((n) => `${n.id} ${n.clientUrl} (admin ${n.adminUrl})`).join(', ')}\n` +
      `try: floe status --admin ${nodes[0]!.adminUrl} --token ${adminToken}${tls ? ` --ca ${caFile}` : ''}\n` +
      `a client: npx tsx ${CHECKOUT_DEMO}${tls ? ` --ca ${caFile}` : ''} ${nodes.map((n) => n.clientUrl).join(',')} ${FEATURE}\n` +
      `key center portal: ${keyCenterUrl}/  (sign in as ${demoSignIn.email}, password ${demoSignIn.password}; it is in ${join(dir, 'keycenter-demo-password')})\n` +
      (values.detach ? `stop with: kill ${children.map((c) => c.pid).join(' ')}\n` : 'Ctrl-C stops the nodes and the key center\n'),
  );
  process.stdout.write(`${JSON.stringify(summary())}\n`);
  if (values.detach) {
    for (const c of children) c.unref();
    return 0;
  }
  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      void stopAll().then(() => resolveExit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // A node that dies is what the demo is for: the others carry on (docs/operations.md has you kill the
    // leader). The demo stops when the key center dies, or when no node is left.
    const nodeChildren = children.slice(0, -1);
    for (const c of children) {
      c.once('exit', (code, signal) => {
        if (stopping) return;
        const isKeyCenter = c === children.at(-1);
        const nodesLeft = nodeChildren.filter((n) => n.exitCode === null && n.signalCode === null).length;
        if (!isKeyCenter && nodesLeft > 0) {
          const quorum = nodesLeft * 2 > nodeChildren.length ? 'the others carry on' : 'no majority is left: checkouts wait until a node is back';
          const config = nodes[nodeChildren.indexOf(c)]?.config;
          process.stderr.write(`node pid ${c.pid} exited (${signal ?? code}); ${nodesLeft} of ${nodeChildren.length} nodes left, ${quorum}. Restart it with: floe serve --config ${config} (Ctrl-C stops the demo)\n`);
          return;
        }
        process.stderr.write(`${isKeyCenter ? 'key center' : 'the last node,'} pid ${c.pid} exited (${signal ?? code}); stopping the demo\n`);
        stopping = true;
        void stopAll().then(() => resolveExit(1));
      });
    }
  });
}

/** Waits until a leader is elected and the demo license is in force (its pool readable through the leader). */
async function waitInForce(nodes: readonly DemoNode[], token: string, children: readonly ChildProcess[], ca: string | undefined): Promise<void> {
  const deadline = Date.now() + NODE_START_MS_MAX;
  let last = '';
  while (Date.now() < deadline) {
    const dead = children.find((c) => c.exitCode !== null);
    if (dead !== undefined) throw new Error(`node pid ${dead.pid} exited with code ${dead.exitCode}`);
    try {
      // A linearizable read: answers only once a leader confirms it, and shows what every node will serve.
      const res = await getJson(`${nodes[0]!.adminUrl}/api/v1/pools`, ca, token);
      const body = res.body;
      if (res.ok && Array.isArray(body) && body.some((p: { feature?: unknown }) => p.feature === FEATURE)) return;
      last = JSON.stringify(body).slice(0, 200);
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the demo license was not in force within ${NODE_START_MS_MAX} ms (last answer: ${last})`);
}

function waitHealthy(node: DemoNode, child: ChildProcess, ca: string | undefined): Promise<void> {
  return waitAnswers(`${node.adminUrl}/api/v1/health`, `node ${node.id}`, child, ca);
}

/** `ms` one status request of the demo may take. */
const REQUEST_MS_MAX = 3000;
/** Bytes of an answer read, at most. */
const ANSWER_BYTES_MAX = 1024 * 1024;

/** GET `url` (http or https, trusting only `ca` when given); its status and JSON body (undefined when not JSON). */
function getJson(url: string, ca: string | undefined, token?: string): Promise<{ ok: boolean; body: unknown }> {
  return new Promise((resolveAnswer, reject) => {
    const headers = token !== undefined ? { authorization: `Bearer ${token}` } : {};
    const onResponse = (res: import('node:http').IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (text.length > ANSWER_BYTES_MAX) res.destroy(new Error('answer too large'));
      });
      res.on('error', reject);
      res.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        const status = res.statusCode ?? 0;
        resolveAnswer({ ok: status >= 200 && status < 300, body });
      });
    };
    const req = url.startsWith('https:') ? httpsRequest(url, { headers, timeout: REQUEST_MS_MAX, ...(ca !== undefined ? { ca } : {}) }, onResponse) : httpRequest(url, { headers, timeout: REQUEST_MS_MAX }, onResponse);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_MS_MAX} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Waits until `url` answers 2xx, while `child` (`what`) runs. */
async function waitAnswers(url: string, what: string, child: ChildProcess, ca?: string): Promise<void> {
  const deadline = Date.now() + NODE_START_MS_MAX;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`);
    try {
      if ((await getJson(url, ca)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not answer ${url} within ${NODE_START_MS_MAX} ms`);
}
