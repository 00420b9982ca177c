// The policy-set command: a new seat policy in force from its log position
// on every node (docs/policy.md, "Setting it").
import { computeCapacity } from './capacity.ts';
import type { PolicySetCommand } from './commands.ts';
import { compilePolicy } from './policy-compile.ts';
import { recomputePolicyAccounting, sessionRules } from './policy-seats.ts';
import { policyViolations } from './policy-violations.ts';
import type { Lease } from './pool-state.ts';
import { revokeBorrow } from './borrow.ts';
import { fail } from './refusal.ts';
import type { PoolReply } from './results.ts';
import { leaveQueue, revokeLease, serveQueue, type Step } from './seats.ts';

/**
 * A new seat policy: in force from this entry on every node. Every pool's
 * rules and counts are recomputed (reservations drawn in grant order), the
 * linger caps refreshed; queued checkouts it excludes leave their queues;
 * with revokeViolating, the leases it refuses are revoked (reason 'policy');
 * then every queue is served (a reservation may have freed seats, or ended).
 */
export function policySet(step: Step, c: PolicySetCommand): PoolReply {
  const state = step.state;
  const before = state.policy?.version ?? 0;
  if (c.expectedVersion !== undefined && c.expectedVersion !== before) {
    return fail('POLICY_VERSION_CONFLICT', `The policy in force is version ${before}, not ${c.expectedVersion}: read it again.`);
  }
  const policy = compilePolicy(c.policy, before + 1, c.format, c.text, step.at);
  const revoke: Lease[] = c.revokeViolating ? policyViolations(state, policy).map((v) => v.lease) : [];
  state.policy = policy;
  state.policyEpoch++;
  recomputePolicyAccounting(state);
  for (const pool of state.pools.values()) computeCapacity(state, pool);
  let dequeued = 0;
  for (const pool of state.pools.values()) {
    for (const w of [...pool.queue]) {
      if (sessionRules(state, w.session, pool)?.excluded === undefined) continue;
      leaveQueue(step, w, 'policy-excluded');
      dequeued++;
    }
  }
  for (const lease of revoke) {
    const end = () => revokeLease(step, lease, 'policy', `The seat policy (version ${policy.version}) no longer allows this seat.`);
    // A borrowed seat whose client is offline stays held until the borrow ends or the client comes back.
    if (lease.borrow !== undefined) revokeBorrow(step, lease, end);
    else end();
  }
  for (const pool of state.pools.values()) serveQueue(step, pool);
  return { ok: true, type: 'policy-set', version: policy.version, revokedLeaseIds: revoke.map((l) => l.id), dequeuedCount: dequeued };
}
