// The seat policy on the node: parse a policy text (either format), check
// what only a server knows (a lease ttl cap below twice its heartbeat would
// lose seats between heartbeats), answer a dry run from the current state,
// or propose the parsed value through the log. The rules themselves are the
// pool's (daemon/pool/policy-*.ts); docs/policy.md says what they mean.
import { parsePolicy, type Policy, type PolicyDiagnostic, type PolicyFormat } from '../../protocol/index.ts';
import { explainCheckout, policyDryRun, policyView, type ApplyResult, type CheckoutExplanation, type ExplainQuery, type PolicyView, type PolicyViolationView, type PoolState } from '../pool/index.ts';
import type { UnstampedCommand } from './command-codec.ts';

/** What a PUT /policy asks. */
export interface PolicySetInput {
  readonly format: PolicyFormat;
  readonly text: string;
  /** Only parse and report: nothing changes. */
  readonly dryRun: boolean;
  /** Revoke the leases the new policy refuses (default: they keep their seats). */
  readonly revokeViolating: boolean;
  /** Refuse unless the policy in force has this version. */
  readonly expectedVersion?: number;
}

/** What it gets. */
export type PolicySetOutcome =
  | { readonly ok: false; readonly code: 'POLICY_INVALID'; readonly message: string; readonly errors: readonly PolicyDiagnostic[]; readonly warnings: readonly PolicyDiagnostic[] }
  | { readonly ok: false; readonly code: string; readonly message: string; readonly errors: readonly PolicyDiagnostic[]; readonly warnings: readonly PolicyDiagnostic[] }
  | {
      readonly ok: true;
      readonly dryRun: boolean;
      /** The version set (a dry run: the one it would get). */
      readonly version: number;
      readonly policy: Policy;
      readonly warnings: readonly PolicyDiagnostic[];
      /** Current leases the policy refuses (a dry run, or a set that keeps them): each kept unless revoked. */
      readonly violations: readonly PolicyViolationView[];
      readonly revokedLeaseIds: readonly string[];
      readonly dequeuedCount: number;
    };

/** What NodePolicy needs of its node. */
export interface NodePolicyDeps {
  readonly pool: () => PoolState;
  readonly propose: (command: UnstampedCommand) => Promise<ApplyResult>;
  readonly readBarrier: () => Promise<void>;
  /** `ms`: the heartbeat interval clients are told. */
  readonly heartbeatMs: number;
}

/** The policy operations of one node. */
export class NodePolicy {
  constructor(private readonly deps: NodePolicyDeps) {}

  /** The policy in force (current: read through the barrier by the caller). */
  view(): PolicyView {
    return policyView(this.deps.pool());
  }

  /** What a checkout would get now (after a read barrier). */
  async explain(q: ExplainQuery): Promise<CheckoutExplanation> {
    await this.deps.readBarrier();
    return explainCheckout(this.deps.pool(), q);
  }

  /** Parses `input.text`; answers a dry run, or proposes the policy (see PolicySetOutcome). Rejects as propose() does. */
  async set(input: PolicySetInput): Promise<PolicySetOutcome> {
    const parsed = parsePolicy(input.format, input.text);
    if (!parsed.ok) return invalid(parsed.errors, parsed.warnings);
    const errors = this.serverChecks(parsed.policy);
    if (errors.length > 0) return invalid(errors, parsed.warnings);
    await this.deps.readBarrier();
    const state = this.deps.pool();
    const violations = policyDryRun(state, parsed.policy, input.format, input.text);
    const next = (state.policy?.version ?? 0) + 1;
    if (input.dryRun) {
      if (input.expectedVersion !== undefined && input.expectedVersion !== next - 1) {
        return { ok: false, code: 'POLICY_VERSION_CONFLICT', message: `The policy in force is version ${next - 1}, not ${input.expectedVersion}: read it again.`, errors: [], warnings: parsed.warnings };
      }
      return { ok: true, dryRun: true, version: next, policy: parsed.policy, warnings: parsed.warnings, violations, revokedLeaseIds: [], dequeuedCount: 0 };
    }
    const r = await this.deps.propose({
      type: 'policy-set',
      policy: parsed.policy,
      format: input.format,
      text: input.text,
      revokeViolating: input.revokeViolating,
      ...(input.expectedVersion !== undefined ? { expectedVersion: input.expectedVersion } : {}),
    });
    const reply = r.reply;
    if (!reply.ok) return { ok: false, code: reply.code, message: reply.message, errors: [], warnings: parsed.warnings };
    if (reply.type !== 'policy-set') throw new Error(`assert: policy-set answered ${reply.type}`);
    return {
      ok: true,
      dryRun: false,
      version: reply.version,
      policy: parsed.policy,
      warnings: parsed.warnings,
      violations: input.revokeViolating ? [] : violations,
      revokedLeaseIds: reply.revokedLeaseIds,
      dequeuedCount: reply.dequeuedCount,
    };
  }

  /** What only this server can check: a lease ttl cap of at least twice its heartbeat interval. */
  private serverChecks(policy: Policy): PolicyDiagnostic[] {
    const out: PolicyDiagnostic[] = [];
    const floorS = Math.ceil((2 * this.deps.heartbeatMs) / 1000);
    for (const f of policy.features) {
      if (f.leaseTtlSecondsMax !== undefined && f.leaseTtlSecondsMax < floorS) {
        out.push({
          line: f.line,
          column: f.line > 0 ? 1 : 0,
          code: 'POLICY_INVALID',
          message: `a lease ttl of at most ${f.leaseTtlSecondsMax} s is under twice this server's heartbeat interval (${this.deps.heartbeatMs} ms): clients would lose seats between heartbeats; use at least ${floorS} s`,
        });
      }
    }
    return out;
  }
}

function invalid(errors: readonly PolicyDiagnostic[], warnings: readonly PolicyDiagnostic[]): PolicySetOutcome {
  const first = errors[0];
  const where = first === undefined || first.line === 0 ? '' : ` (line ${first.line}, column ${first.column})`;
  return { ok: false, code: 'POLICY_INVALID', message: `The policy has ${errors.length} error(s): ${first?.message ?? ''}${where}.`, errors, warnings };
}
