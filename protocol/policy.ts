// The seat policy as a value: what both policy formats (Floe's TOML,
// policy-toml.ts, and FlexNet options files, options-file.ts) parse into,
// what the node proposes through the log and what the seat pool enforces.
// The meaning of every field, and the precedence and case rules, are stated
// once in docs/policy.md; this file is only the shape, the limits, the names
// of rules in refusals, and the cross-reference checks both parsers share.

/** Kinds of principal a rule names. */
export type PrincipalType = 'user' | 'host' | 'group' | 'host-group' | 'ip' | 'app';

/** Every principal type, in the order docs/policy.md lists them. */
export const PRINCIPAL_TYPES: readonly PrincipalType[] = ['user', 'host', 'group', 'host-group', 'ip', 'app'];

/** Whom a rule names: one user, host, group (of users), host group, IP pattern (ip-pattern.ts) or application. */
export interface Who {
  readonly type: PrincipalType;
  readonly name: string;
}

/** What a `max` rule limits each of, when it names nobody in particular (FlexNet's USER ALL_USERS, GROUP ALL_GROUPS). */
export type MaxEach = 'user' | 'host' | 'group';

/** Fields of every rule. */
export interface RuleBase {
  /** A feature name, or "*" for every feature (not allowed for reserve). */
  readonly feature: string;
  /** Only the pool of this exact version; absent: every pool of the feature. */
  readonly version?: string;
  /** 1-based line of the rule in its source text (0 when it has none). */
  readonly line: number;
}

/** Who may use (scope "use": checkouts and borrows) or borrow (scope "borrow") a feature. */
export interface IncludeRule extends RuleBase {
  readonly kind: 'include' | 'exclude';
  readonly scope: 'use' | 'borrow';
  readonly who: Who;
}

/** `count` seats of each pool the rule covers are held for `who` (all of them together). */
export interface ReserveRule extends RuleBase {
  readonly kind: 'reserve';
  readonly count: number;
  readonly who: Who;
}

/** At most `count` seats of each pool the rule covers, held by `who` together, or by each user/host/group (`each`). */
export interface MaxRule extends RuleBase {
  readonly kind: 'max';
  readonly count: number;
  /** Exactly one of `who` and `each`. */
  readonly who?: Who;
  readonly each?: MaxEach;
}

/** Queued checkouts of `who` go ahead of those with a lower level (default 0). */
export interface PriorityRule extends RuleBase {
  readonly kind: 'priority';
  /** 1 … PRIORITY_LEVEL_MAX. */
  readonly level: number;
  readonly who: Who;
}

/** A rule about who gets seats, in document order. */
export type PolicyRule = IncludeRule | ReserveRule | MaxRule | PriorityRule;

/**
 * Per-feature settings, each bounded by what the license allows. The most
 * specific entry that sets a field decides it: feature and version, then the
 * feature, then "*".
 */
export interface FeatureSettings {
  readonly feature: string;
  readonly version?: string;
  readonly line: number;
  /** `s`: a lease not renewed for this long is reclaimed, however long the server's lease ttl (FlexNet TIMEOUT). */
  readonly leaseTtlSecondsMax?: number;
  /** `s`: a lease survives at least this long without renewal (never below the server's lease ttl). */
  readonly leaseTtlSecondsMin?: number;
  /** `s`: cap on the keys' linger time (FlexNet LINGER; never beyond the key's). */
  readonly lingerSecondsMax?: number;
  /** `h`: longest borrow (FlexNet MAX_BORROW_HOURS; never beyond the key's). */
  readonly borrowHoursMax?: number;
  /** Seats of a pool that can never be borrowed (FlexNet BORROW_LOWWATER). */
  readonly borrowLowWater?: number;
  /** `%`: at most this share of a pool's seats borrowed at once (rounded down). */
  readonly borrowSharePercentMax?: number;
}

/** A whole seat policy: one per cluster. */
export interface Policy {
  /** Compare user, host, group members and app names with their case (default: case-insensitively). */
  readonly caseSensitive: boolean;
  /** Named groups of users, [name, members] in definition order. */
  readonly groups: readonly (readonly [string, readonly string[]])[];
  /** Named groups of hosts (names or IP patterns), [name, members]. */
  readonly hostGroups: readonly (readonly [string, readonly string[]])[];
  readonly rules: readonly PolicyRule[];
  readonly features: readonly FeatureSettings[];
}

/** The policy in force when none was ever set: nobody is refused, no setting changes anything. */
export const EMPTY_POLICY: Policy = { caseSensitive: false, groups: [], hostGroups: [], rules: [], features: [] };

/** The two source formats of PUT /policy. */
export type PolicyFormat = 'floe' | 'flexlm-options';

/** Every limit of a policy and of its source text. */
export const POLICY_LIMITS = {
  /** Bytes of a policy's source text (UTF-8). */
  textBytesMax: 256 * 1024,
  /** Characters of one logical line (continuations joined). */
  lineCharsMax: 64 * 1024,
  rulesMax: 2_000,
  featureSettingsMax: 1_000,
  groupsMax: 1_000,
  /** Members of all groups and host groups together. */
  groupMembersMax: 50_000,
  /** Characters of a name (user, host, group, app, feature). */
  nameCharsMax: 128,
  /** Seats in one reserve or max rule. */
  countMax: 1_000_000,
  /** Highest queue priority level. */
  priorityLevelMax: 100,
  /** Diagnostics reported at most (the rest are counted in the last). */
  diagnosticsMax: 100,
  /** `h`: longest borrow a policy may allow. */
  borrowHoursMax: 24 * 366,
  /** `s`: longest lease ttl or linger a policy may set. */
  durationSecondsMax: 7 * 24 * 3600,
} as const;

/** A problem found in a policy text, where it is (1-based; column 0 when unknown). */
export interface PolicyDiagnostic {
  readonly line: number;
  readonly column: number;
  /** UPPER_CASE: POLICY_SYNTAX, POLICY_UNKNOWN_KEYWORD, POLICY_UNSUPPORTED, POLICY_UNDEFINED_GROUP, POLICY_INVALID, POLICY_TOO_LARGE, POLICY_IGNORED, POLICY_OVERRIDDEN. */
  readonly code: string;
  readonly message: string;
}

/** What a parser answers: the policy, or the errors; warnings in both cases. Never thrown. */
export type PolicyParse =
  | { readonly ok: true; readonly policy: Policy; readonly warnings: readonly PolicyDiagnostic[] }
  | { readonly ok: false; readonly errors: readonly PolicyDiagnostic[]; readonly warnings: readonly PolicyDiagnostic[] };

/** `name` as compared under the policy's case rule. */
export function foldName(name: string, caseSensitive: boolean): string {
  return caseSensitive ? name : name.toLowerCase();
}

/** True when `name` is usable as a principal or group name: 1–128 characters, no control characters. */
export function validName(name: string): boolean {
  return name.length > 0 && name.length <= POLICY_LIMITS.nameCharsMax && !/[\u0000-\u001f\u007f]/.test(name);
}

/** Feature names as in license keys, or "*". */
export function validFeature(feature: string): boolean {
  return feature === '*' || (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(feature) && feature.length <= 64);
}

/** Product versions as in license keys: dot-separated integers. */
export function validVersion(version: string): boolean {
  return /^\d{1,9}(\.\d{1,9}){0,3}$/.test(version);
}

const WHO_WORDS: Record<PrincipalType, string> = {
  user: 'user',
  host: 'host',
  group: 'group',
  'host-group': 'host_group',
  ip: 'ip',
  app: 'app',
};

/** `who` as written in the Floe format: "user:alice", "host_group:lab". */
export function formatWho(who: Who): string {
  return `${WHO_WORDS[who.type]}:${who.name}`;
}

/** The principal named by "type:name" text (the Floe format), or undefined. */
export function parseWho(text: string): Who | undefined {
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  const word = text.slice(0, colon).toLowerCase().replace('-', '_');
  const name = text.slice(colon + 1);
  const type = (Object.keys(WHO_WORDS) as PrincipalType[]).find((t) => WHO_WORDS[t] === word);
  if (type === undefined || !validName(name)) return undefined;
  return { type, name };
}

function scope(rule: RuleBase): string {
  const f = rule.feature === '*' ? 'every feature' : rule.feature;
  return rule.version === undefined ? f : `${f} ${rule.version}`;
}

/**
 * The rule as a refusal names it: "exclude cad for group interns (line 4)",
 * "max 2 of cad per user (line 7)", "reserve 1 of cad for user alice (line 3)".
 */
export function describeRule(rule: PolicyRule): string {
  const where = rule.line > 0 ? ` (line ${rule.line})` : '';
  switch (rule.kind) {
    case 'include':
    case 'exclude': {
      const verb = rule.scope === 'borrow' ? `${rule.kind}_borrow` : rule.kind;
      return `${verb} ${scope(rule)} for ${formatWho(rule.who).replace(':', ' ')}${where}`;
    }
    case 'reserve':
      return `reserve ${rule.count} of ${scope(rule)} for ${formatWho(rule.who).replace(':', ' ')}${where}`;
    case 'max':
      return rule.each !== undefined
        ? `max ${rule.count} of ${scope(rule)} per ${rule.each}${where}`
        : `max ${rule.count} of ${scope(rule)} for ${formatWho(rule.who as Who).replace(':', ' ')}${where}`;
    case 'priority':
      return `priority ${rule.level} on ${scope(rule)} for ${formatWho(rule.who).replace(':', ' ')}${where}`;
    default: {
      const never: never = rule;
      throw new Error(`assert: unknown rule ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Cross-reference checks both parsers share: every group a rule names is
 * defined, reserve names a feature, limits hold. Returns the errors, each
 * at its rule's line (column 1).
 */
export function checkPolicyReferences(policy: Policy): PolicyDiagnostic[] {
  const errors: PolicyDiagnostic[] = [];
  const fold = (n: string) => foldName(n, policy.caseSensitive);
  const groups = new Set(policy.groups.map(([n]) => fold(n)));
  const hostGroups = new Set(policy.hostGroups.map(([n]) => fold(n)));
  const at = (line: number, code: string, message: string) => errors.push({ line, column: line > 0 ? 1 : 0, code, message });
  if (policy.rules.length > POLICY_LIMITS.rulesMax) at(0, 'POLICY_TOO_LARGE', `more than ${POLICY_LIMITS.rulesMax} rules`);
  if (policy.groups.length + policy.hostGroups.length > POLICY_LIMITS.groupsMax) at(0, 'POLICY_TOO_LARGE', `more than ${POLICY_LIMITS.groupsMax} groups`);
  let members = 0;
  for (const [, m] of [...policy.groups, ...policy.hostGroups]) members += m.length;
  if (members > POLICY_LIMITS.groupMembersMax) at(0, 'POLICY_TOO_LARGE', `more than ${POLICY_LIMITS.groupMembersMax} group members`);
  for (const rule of policy.rules) {
    const who = rule.kind === 'max' ? rule.who : rule.who;
    if (who?.type === 'group' && !groups.has(fold(who.name))) {
      at(rule.line, 'POLICY_UNDEFINED_GROUP', `group ${who.name} is not defined (a GROUP line or [groups] entry must define it)`);
    }
    if (who?.type === 'host-group' && !hostGroups.has(fold(who.name))) {
      at(rule.line, 'POLICY_UNDEFINED_GROUP', `host group ${who.name} is not defined (a HOST_GROUP line or [host_groups] entry must define it)`);
    }
    if (rule.kind === 'reserve' && rule.feature === '*') at(rule.line, 'POLICY_INVALID', 'a reservation names one feature, not "*"');
  }
  return errors;
}
