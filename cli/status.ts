// `floe status [--admin URL] [token options] [--json]`: a node's health, the
// members' states (caught-up, behind by N, down, rejoining), the licenses and
// their days to expiry, the pools and the leases, read through the admin
// API. The reads go through the leader (linearizable); on a node that hears
// no leader they fall back to the node's own state (?stale=true) and the
// report says so, instead of failing: that node is exactly the one a
// sysadmin wants to look at.
import { ADMIN_OPTIONS, ADMIN_USAGE, adminConnection, type AdminConnection } from './admin-connection.ts';
import { adminClient, call, fresh } from './admin-client.ts';
import { CliError } from './cli-error.ts';
import { processIo, type CommandIo } from './command-io.ts';
import { parseOptions, runCommand } from './run-command.ts';
import { statusReport, type ClusterAnswer, type HealthAnswer, type LeaseAnswer, type LicenseAnswer, type PoolAnswer, type StatusAnswers } from './status-report.ts';

const USAGE = `usage: floe status ${ADMIN_USAGE} [--json]`;
/** `ms` to wait for each admin API answer (a linearizable read waits at most the node's forwardTimeoutMs, 1 s by default). */
const REQUEST_MS_MAX = 5000;

/** The licenses, pools and leases: through the leader, or (`stale`) this node's own. */
async function readAll(connection: AdminConnection, stale: boolean): Promise<Pick<StatusAnswers, 'licenses' | 'pools' | 'leases' | 'stale'>> {
  const api = adminClient(connection, REQUEST_MS_MAX);
  const query = stale ? { stale: 'true' as const } : {};
  // No retry here: without a leader, status shows the node's own state instead (see run()).
  const once = { retryMs: 0 };
  const [licenses, pools, leases] = await Promise.all([
    call(() => api.licenses.$get({ query }), once),
    call(() => api.pools.$get({ query }), once),
    call(() => api.leases.$get({ query }), once),
  ]);
  const envelope = 'stale' in licenses ? licenses : undefined;
  return {
    licenses: fresh<LicenseAnswer[]>(licenses),
    pools: fresh<PoolAnswer[]>(pools),
    leases: fresh<LeaseAnswer[]>(leases),
    stale: envelope === undefined ? undefined : { appliedIndex: envelope.appliedIndex, lagEntries: envelope.lagEntries },
  };
}

/** Runs `floe status`; answers the exit code. */
export function run(argv: string[], io: CommandIo = processIo): Promise<number> {
  return runCommand(argv, io, USAGE, async () => {
    const { values } = parseOptions(argv, ADMIN_OPTIONS);
    const connection = adminConnection(values);
    const api = adminClient(connection, REQUEST_MS_MAX);
    const [health, cluster]: [HealthAnswer, ClusterAnswer] = await Promise.all([call(() => api.health.$get()), call(() => api.cluster.$get())]);
    let reads;
    if (health.leaderId === '') reads = await readAll(connection, true);
    else {
      try {
        reads = await readAll(connection, false);
      } catch (error) {
        // The leader did not confirm in time (an election, a partition): show what this node has.
        if (!(error instanceof CliError) || error.code !== 'UNAVAILABLE') throw error;
        reads = await readAll(connection, true);
      }
    }
    const answers: StatusAnswers = { health, cluster, ...reads };
    return statusReport(answers, Date.now());
  });
}
