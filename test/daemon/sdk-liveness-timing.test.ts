// The SDK's frozen-server detection against the cluster's own: a client must
// not give up on a server sooner than the cluster with the default timing
// gives up on a silent leader. A leader silent that long is being replaced by
// its followers (election timeout: electionTicks to twice that, in ticks of
// tickMs), so leaving it costs the client nothing it could have had; a live
// server stalled less than that (a GC pause, a large snapshot) is waited for.
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../client/client-options.ts';
import { parseConfig } from '../../daemon/config.ts';

describe('the SDK default liveness timing', () => {
  it('waits out at least the longest election timeout of a default cluster before it presumes a silent server frozen', () => {
    const { raft } = parseConfig({});
    const longestElectionTimeoutMs = 2 * raft.electionTicks * raft.tickMs;
    const client = resolveOptions({ servers: ['ws://127.0.0.1:7401/ws'], user: 'u', host: 'h', app: 'a' });
    expect(client.pingAfterMs + client.pongTimeoutMs).toBeGreaterThanOrEqual(longestElectionTimeoutMs);
  });
});
