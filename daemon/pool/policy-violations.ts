// Which current leases a policy would refuse: for a dry run (PUT /policy
// ?dryRun=true lists them) and for a policy-set that asks to revoke them.
// A lease violates a policy when the pool's rules exclude its holder, or
// when, counting the pool's leases in grant order, it would break a max limit
// (so the newest beyond a limit are the ones named). Reservations are never
// violated: seats others hold stay held, the reservation fills as they go.
// Pure: reads the state, changes nothing.
import { poolRules, identityRules, policyIdentity, type CompiledPolicy, type PoolRules } from './policy-compile.ts';
import type { Lease, PoolState } from './pool-state.ts';
import { whoText } from './policy-seats.ts';

/** A lease the policy refuses, and why. */
export interface PolicyViolation {
  readonly lease: Lease;
  readonly code: 'POLICY_EXCLUDED' | 'POLICY_MAX';
  readonly message: string;
}

/** Every lease (held, lingering) `policy` refuses, in grant order. */
export function policyViolations(state: PoolState, policy: CompiledPolicy): PolicyViolation[] {
  const out: PolicyViolation[] = [];
  const rulesByPool = new Map<string, PoolRules | undefined>();
  const held = new Map<string, number>();
  for (const lease of state.leases.values()) {
    const pool = lease.pool;
    let rules = rulesByPool.get(pool.key);
    if (!rulesByPool.has(pool.key)) {
      rules = poolRules(policy, pool.feature, pool.version);
      rulesByPool.set(pool.key, rules);
    }
    if (rules === undefined) continue;
    const ir = identityRules(rules, policyIdentity(policy, lease.user, lease.host, lease.app, lease.ip), whoText(lease.user, lease.host));
    if (ir.excluded !== undefined) {
      out.push({ lease, code: 'POLICY_EXCLUDED', message: ir.excluded });
      continue;
    }
    if (pool.model !== 'concurrent') continue;
    const broken = ir.maxes.find((m) => (held.get(`${pool.key}\n${m.key}`) ?? 0) + lease.count > m.limit);
    if (broken !== undefined) {
      out.push({ lease, code: 'POLICY_MAX', message: `Policy rule "${broken.rule.text}" is exceeded by ${whoText(lease.user, lease.host)}.` });
      continue;
    }
    for (const m of ir.maxes) held.set(`${pool.key}\n${m.key}`, (held.get(`${pool.key}\n${m.key}`) ?? 0) + lease.count);
  }
  return out;
}
