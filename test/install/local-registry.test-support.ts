// A package registry on loopback for the install test: it serves, from a
// node_modules tree, the packuments and tarballs npm asks for, so that
// `npm install -g floe-x.y.z.tgz` resolves every dependency without the
// network (tests use loopback only). Each package version is found once in
// the tree; a tarball is its directory under `package/`, tarred and gzipped
// on the first request.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';

interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly [field: string]: unknown;
}

/** Every package directory under `nodeModules` (nested node_modules too), by name then version. */
function scan(nodeModules: string, into = new Map<string, Map<string, { dir: string; manifest: Manifest }>>()) {
  if (!existsSync(nodeModules)) return into;
  for (const entry of readdirSync(nodeModules)) {
    if (entry.startsWith('.')) continue;
    const dirs = entry.startsWith('@') ? readdirSync(join(nodeModules, entry)).map((e) => join(nodeModules, entry, e)) : [join(nodeModules, entry)];
    for (const dir of dirs) {
      const path = join(dir, 'package.json');
      if (!existsSync(path)) continue;
      const manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
      if (typeof manifest.name !== 'string' || typeof manifest.version !== 'string') continue;
      const versions = into.get(manifest.name) ?? new Map();
      if (!versions.has(manifest.version)) versions.set(manifest.version, { dir, manifest });
      into.set(manifest.name, versions);
      scan(join(dir, 'node_modules'), into);
    }
  }
  return into;
}

/** A running local registry; close() stops it. */
export interface LocalRegistry {
  readonly url: string;
  /** Packuments served (what npm resolved). */
  readonly served: Set<string>;
  close(): Promise<void>;
}

/** Serves the packages of `nodeModules` at http://127.0.0.1:PORT/. */
export async function startLocalRegistry(nodeModules: string): Promise<LocalRegistry> {
  const packages = scan(nodeModules);
  const served = new Set<string>();
  let base = '';
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!.slice(1));
    const tarball = /^(.+)\/-\/[^/]+-(\d[^/]*)\.tgz$/.exec(path);
    if (tarball !== null) {
      const found = packages.get(tarball[1]!)?.get(tarball[2]!);
      if (found === undefined) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const tar = spawn('tar', ['-c', '-C', found.dir, '--exclude=./node_modules', '--transform', 's,^\\.,package,', '.'], { stdio: ['ignore', 'pipe', 'ignore'] });
      tar.stdout.pipe(createGzip({ level: 1 })).pipe(res);
      return;
    }
    const versions = packages.get(path);
    if (versions === undefined) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    served.add(path);
    const doc = {
      name: path,
      'dist-tags': { latest: [...versions.keys()].at(-1) },
      versions: Object.fromEntries(
        [...versions].map(([v, { manifest }]) => [v, { ...manifest, dist: { tarball: `${base}${path}/-/${path.split('/').at(-1)}-${v}.tgz` } }]),
      ),
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { url: base, served, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
