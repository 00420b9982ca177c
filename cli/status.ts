// `floe status [--admin URL] [token options] [--json]`: a node's health, the
// members' states (up, behind by N, down), the licenses and their days to
// expiry, the pools and the leases, read through the admin API. The reads go
// through the leader (linearizable); on a node that hears no leader they fall
// back to the node's own state (?stale=true) and the report says so, instead
// of failing: that node is exactly the one a sysadmin wants to look at.
import { ADMIN_OPTIONS, ADMIN_USAGE, adminConnection, type AdminConnection } from './admin-connection.ts';
import { adminRequest } from './admin-request.ts';
import { CliError } from './cli-error.ts';
import { processIo, type CommandIo } from './command-io.ts';
import { parseOptions, runCommand } from './run-command.ts';
import { statusReport, type ClusterAnswer, type HealthAnswer, type LeaseAnswer, type LicenseAnswer, type PoolAnswer, type StatusAnswers } from './status-report.ts';

const USAGE = `usage: floe status ${ADMIN_USAGE} [--json]`;
/** `ms` to wait for each admin API answer (a linearizable read waits at most the node's forwardTimeoutMs, 1 s by default). */
const REQUEST_MS_MAX = 5000;

interface StaleBody<T> {
  readonly stale: true;
  readonly appliedIndex: number;
  readonly lagEntries: number;
  readonly data: T;
}

async function readAll(connection: AdminConnection, stale: boolean) {
  const get = (path: string) => adminRequest(connection, 'GET', path, { timeoutMs: REQUEST_MS_MAX, ...(stale ? { query: { stale: true } } : {}) });
  const [licenses, pools, leases] = await Promise.all([get('/licenses'), get('/pools'), get('/leases')]);
  if (!stale) return { licenses: licenses as LicenseAnswer[], pools: pools as PoolAnswer[], leases: leases as LeaseAnswer[], stale: undefined };
  const l = licenses as StaleBody<LicenseAnswer[]>;
  return {
    licenses: l.data,
    pools: (pools as StaleBody<PoolAnswer[]>).data,
    leases: (leases as StaleBody<LeaseAnswer[]>).data,
    stale: { appliedIndex: l.appliedIndex, lagEntries: l.lagEntries },
  };
}

/** Runs `floe status`; answers the exit code. */
export function run(argv: string[], io: CommandIo = processIo): Promise<number> {
  return runCommand(argv, io, USAGE, async () => {
    const { values } = parseOptions(argv, ADMIN_OPTIONS);
    const connection = adminConnection(values);
    const [health, cluster] = await Promise.all([
      adminRequest(connection, 'GET', '/health', { timeoutMs: REQUEST_MS_MAX }) as Promise<HealthAnswer>,
      adminRequest(connection, 'GET', '/cluster', { timeoutMs: REQUEST_MS_MAX }) as Promise<ClusterAnswer>,
    ]);
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
