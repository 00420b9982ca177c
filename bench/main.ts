// `npm run bench -- NAME` runs one benchmark; `npm run bench` runs them all.
// Each benchmark module exports `run(): Promise<Record<string, unknown>>`, prints
// readable figures as it goes, and its result is printed as one JSON line last.
import process from 'node:process';

type Bench = () => Promise<{ run: (args: string[]) => Promise<Record<string, unknown>> }>;

/** Every benchmark, by name. */
const benches: Record<string, Bench> = {
  license: () => import('./license.ts'),
  pool: () => import('./pool.ts'),
  node: () => import('./node.ts'),
  daemon: () => import('./daemon.ts'),
  transport: () => import('./transport.ts'),
  cluster: () => import('./cluster/index.ts'),
  flood: () => import('./flood.ts'),
  keycenter: () => import('./keycenter.ts'),
};

const [name, ...args] = process.argv.slice(2);
const selected = name === undefined ? Object.keys(benches) : [name];
for (const n of selected) {
  const load = benches[n];
  if (load === undefined) {
    process.stderr.write(`unknown benchmark "${n}"; known: ${Object.keys(benches).join(', ')}\n`);
    process.exit(2);
  }
  const result = await (await load()).run(args);
  process.stdout.write(`${JSON.stringify({ bench: n, ...result })}\n`);
}
