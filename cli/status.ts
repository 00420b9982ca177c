// `floe status --admin URL --token T [--json]`: a node's health, its pools
// and leases, read through the admin API. With --json the last line of stdout
// is one JSON document {health, cluster, pools, leases}.
import process from 'node:process';
import { parseArgs } from 'node:util';
import { adminRequest, reportAdminFailure } from './admin-request.ts';

const USAGE = 'usage: floe status --admin URL --token T [--json]';
/** `ms` to wait for each admin API answer. */
const REQUEST_MS_MAX = 5000;

/** Runs `floe status`; answers the exit code. */
export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { admin: { type: 'string' }, token: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`BAD_REQUEST: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.admin === undefined || values.token === undefined) {
    process.stderr.write(`BAD_REQUEST: --admin and --token are required\n${USAGE}\n`);
    return 2;
  }
  try {
    const [health, cluster, pools, leases] = await Promise.all([
      adminRequest(values.admin, values.token, 'GET', '/health', { timeoutMs: REQUEST_MS_MAX }),
      adminRequest(values.admin, values.token, 'GET', '/cluster', { timeoutMs: REQUEST_MS_MAX }),
      adminRequest(values.admin, values.token, 'GET', '/pools', { timeoutMs: REQUEST_MS_MAX }),
      adminRequest(values.admin, values.token, 'GET', '/leases', { timeoutMs: REQUEST_MS_MAX }),
    ]);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ health, cluster, pools, leases })}\n`);
      return 0;
    }
    const h = health as { nodeId: string; role: string; leaderId: string; term: number; appliedIndex: number };
    const lines = [`node ${h.nodeId}: ${h.role} (leader ${h.leaderId || 'unknown'}, term ${h.term}, applied ${h.appliedIndex})`];
    const members = (cluster as { nodes?: { id: string; role: string; commitIndex: number | null; matchIndex?: number }[] }).nodes ?? [];
    if (members.length > 1) {
      lines.push('', 'cluster:');
      for (const m of members) lines.push(`  ${m.id.padEnd(8)} ${m.role.padEnd(14)} ${m.matchIndex !== undefined ? `match ${m.matchIndex}` : m.commitIndex !== null ? `commit ${m.commitIndex}` : '(ask the leader)'}`);
    }
    lines.push('', 'pools:');
    const ps = pools as { feature: string; version: string; model: string; seatsTotal: number; seatsInUse: number; queued: number }[];
    if (ps.length === 0) lines.push('  (none: import a license with POST /api/v1/licenses)');
    for (const p of ps) lines.push(`  ${`${p.feature}@${p.version}`.padEnd(24)} ${p.model.padEnd(16)} ${p.seatsInUse}/${p.seatsTotal} in use, ${p.queued} queued`);
    const ls = leases as { leaseId: string; feature: string; user: string; host: string; expiresAt: number }[];
    lines.push('', `leases: ${ls.length}`);
    for (const l of ls.slice(0, 50)) lines.push(`  ${l.leaseId.padEnd(12)} ${l.feature.padEnd(16)} ${l.user}@${l.host}  expires ${new Date(l.expiresAt).toISOString()}`);
    if (ls.length > 50) lines.push(`  … ${ls.length - 50} more (--json lists all)`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } catch (error) {
    return reportAdminFailure(error);
  }
}
