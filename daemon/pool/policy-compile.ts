// The seat policy as the pool applies it: the Policy value of protocol/policy.ts
// compiled once per `policy-set` into lookups (names folded by the policy's
// case rule, groups inverted to user → groups, IP patterns parsed), and, per
// pool, the rules and settings that apply to it. What a rule means is in
// docs/policy.md; this file decides only which rules apply to whom.
import { ipMatches, looksLikeIp, parseIpAddress, parseIpPattern, type IpAddress, type IpPattern } from '../../protocol/ip-pattern.ts';
import { describeRule, foldName, type FeatureSettings, type MaxRule, type Policy, type PolicyFormat, type PolicyRule, type Who } from '../../protocol/policy.ts';

/** A rule with what matching it needs, precomputed. */
export interface CompiledRule {
  readonly rule: PolicyRule;
  /** Position in the policy's rules (document order). */
  readonly index: number;
  /** The rule as refusals name it (describeRule). */
  readonly text: string;
  /** The named principal, folded by the case rule ('' for a max rule with `each`). */
  readonly name: string;
  /** For an ip principal: its pattern. */
  readonly ip: IpPattern | undefined;
}

/** Settings of one pool: the policy's, not yet bounded by the keys (capacity.ts and apply.ts bound them). */
export interface PoolSettings {
  /** `ms`: floor of a lease's ttl (0: none). */
  readonly leaseTtlMsMin: number;
  /** `ms`: cap of a lease's ttl (Infinity: none). */
  readonly leaseTtlMsMax: number;
  /** `ms`: cap of linger (Infinity: none). */
  readonly lingerMsMax: number;
  /** `ms`: cap of a borrow (Infinity: none). */
  readonly borrowMsMax: number;
  /** Seats never borrowed. */
  readonly borrowLowWater: number;
  /** `%` of seats borrowed at most. */
  readonly borrowSharePercentMax: number;
}

/** The rules and settings that apply to one pool. */
export interface PoolRules {
  readonly includes: readonly CompiledRule[];
  readonly excludes: readonly CompiledRule[];
  readonly borrowIncludes: readonly CompiledRule[];
  readonly borrowExcludes: readonly CompiledRule[];
  readonly maxes: readonly CompiledRule[];
  /** Reservations, in document order; a lease draws on them in this order. */
  readonly reserves: readonly CompiledRule[];
  readonly priorities: readonly CompiledRule[];
  readonly settings: PoolSettings;
}

/** The policy as applied. */
export interface CompiledPolicy {
  readonly source: Policy;
  /** 1 for the first policy set, +1 per set. */
  readonly version: number;
  readonly format: PolicyFormat;
  /** The text it was parsed from. */
  readonly text: string;
  /** `ms`: `at` of its policy-set. */
  readonly setAt: number;
  readonly caseSensitive: boolean;
  /** Folded user → folded names of the groups it is in. */
  readonly groupsOfUser: ReadonlyMap<string, readonly string[]>;
  /** Folded host → folded names of the host groups naming it. */
  readonly hostGroupsOfHost: ReadonlyMap<string, readonly string[]>;
  /** Host-group members that are IP patterns: [folded group name, pattern]. */
  readonly hostGroupIps: readonly (readonly [string, IpPattern])[];
  readonly rules: readonly CompiledRule[];
  readonly features: readonly FeatureSettings[];
}

/** A session's (or a lease's) identity as the rules see it. */
export interface PolicyIdentity {
  readonly user: string;
  readonly host: string;
  readonly app: string;
  readonly ip: IpAddress | undefined;
  /** Folded names of the user's groups. */
  readonly groups: readonly string[];
  /** Folded names of the host's host groups (by name or by IP). */
  readonly hostGroups: readonly string[];
}

/** Settings where the policy says nothing. */
export const NO_SETTINGS: PoolSettings = {
  leaseTtlMsMin: 0,
  leaseTtlMsMax: Number.POSITIVE_INFINITY,
  lingerMsMax: Number.POSITIVE_INFINITY,
  borrowMsMax: Number.POSITIVE_INFINITY,
  borrowLowWater: 0,
  borrowSharePercentMax: 100,
};

/** Compiles `source` (already validated by its parser). */
export function compilePolicy(source: Policy, version: number, format: PolicyFormat, text: string, setAt: number): CompiledPolicy {
  const cs = source.caseSensitive;
  const groupsOfUser = new Map<string, string[]>();
  for (const [name, members] of source.groups) {
    const g = foldName(name, cs);
    for (const m of members) {
      const u = foldName(m, cs);
      const list = groupsOfUser.get(u);
      if (list === undefined) groupsOfUser.set(u, [g]);
      else if (!list.includes(g)) list.push(g);
    }
  }
  const hostGroupsOfHost = new Map<string, string[]>();
  const hostGroupIps: [string, IpPattern][] = [];
  for (const [name, members] of source.hostGroups) {
    const g = foldName(name, cs);
    for (const m of members) {
      const pattern = looksLikeIp(m) ? parseIpPattern(m) : undefined;
      if (pattern !== undefined) {
        hostGroupIps.push([g, pattern]);
        continue;
      }
      const h = foldName(m, cs);
      const list = hostGroupsOfHost.get(h);
      if (list === undefined) hostGroupsOfHost.set(h, [g]);
      else if (!list.includes(g)) list.push(g);
    }
  }
  const rules = source.rules.map((rule, index): CompiledRule => {
    const who: Who | undefined = rule.kind === 'max' ? rule.who : rule.who;
    return {
      rule,
      index,
      text: describeRule(rule),
      name: who === undefined || who.type === 'ip' ? '' : foldName(who.name, cs),
      ip: who?.type === 'ip' ? parseIpPattern(who.name) : undefined,
    };
  });
  return { source, version, format, text, setAt, caseSensitive: cs, groupsOfUser, hostGroupsOfHost, hostGroupIps, rules, features: source.features };
}

/** The identity of (user, host, app, ip) under `policy`. */
export function policyIdentity(policy: CompiledPolicy, user: string, host: string, app: string, ip: string): PolicyIdentity {
  const cs = policy.caseSensitive;
  const u = foldName(user, cs);
  const h = foldName(host, cs);
  const address = ip === '' ? undefined : parseIpAddress(ip);
  let hostGroups = policy.hostGroupsOfHost.get(h) ?? [];
  if (address !== undefined && policy.hostGroupIps.length > 0) {
    const extra = policy.hostGroupIps.filter(([g, p]) => !hostGroups.includes(g) && ipMatches(p, address)).map(([g]) => g);
    if (extra.length > 0) hostGroups = [...hostGroups, ...new Set(extra)];
  }
  return { user: u, host: h, app: foldName(app, cs), ip: address, groups: policy.groupsOfUser.get(u) ?? [], hostGroups };
}

/** True when the principal `r` names matches `id`. */
export function ruleMatches(r: CompiledRule, id: PolicyIdentity): boolean {
  const who = r.rule.kind === 'max' ? r.rule.who : r.rule.who;
  if (who === undefined) return true;
  switch (who.type) {
    case 'user':
      return id.user === r.name;
    case 'host':
      return id.host === r.name;
    case 'app':
      return id.app === r.name;
    case 'group':
      return id.groups.includes(r.name);
    case 'host-group':
      return id.hostGroups.includes(r.name);
    case 'ip':
      return r.ip !== undefined && id.ip !== undefined && ipMatches(r.ip, id.ip);
    default: {
      const never: never = who.type;
      throw new Error(`assert: unknown principal type ${String(never)}`);
    }
  }
}

/** True when `rule` covers the pool of `feature` at `version`. */
export function ruleCovers(rule: { readonly feature: string; readonly version?: string }, feature: string, version: string): boolean {
  return (rule.feature === '*' || rule.feature === feature) && (rule.version === undefined || rule.version === version);
}

/** The rules and settings of `policy` that apply to the pool of `feature` at `version`; undefined when none do. */
export function poolRules(policy: CompiledPolicy, feature: string, version: string): PoolRules | undefined {
  const includes: CompiledRule[] = [];
  const excludes: CompiledRule[] = [];
  const borrowIncludes: CompiledRule[] = [];
  const borrowExcludes: CompiledRule[] = [];
  const maxes: CompiledRule[] = [];
  const reserves: CompiledRule[] = [];
  const priorities: CompiledRule[] = [];
  for (const r of policy.rules) {
    const rule = r.rule;
    if (!ruleCovers(rule, feature, version)) continue;
    switch (rule.kind) {
      case 'include':
        (rule.scope === 'use' ? includes : borrowIncludes).push(r);
        break;
      case 'exclude':
        (rule.scope === 'use' ? excludes : borrowExcludes).push(r);
        break;
      case 'max':
        maxes.push(r);
        break;
      case 'reserve':
        reserves.push(r);
        break;
      case 'priority':
        priorities.push(r);
        break;
      default: {
        const never: never = rule;
        throw new Error(`assert: unknown rule ${JSON.stringify(never)}`);
      }
    }
  }
  const settings = poolSettings(policy.features, feature, version);
  const none = includes.length + excludes.length + borrowIncludes.length + borrowExcludes.length + maxes.length + reserves.length + priorities.length === 0;
  if (none && settings === NO_SETTINGS) return undefined;
  return { includes, excludes, borrowIncludes, borrowExcludes, maxes, reserves, priorities, settings };
}

/** Each field from the most specific settings entry that sets it: feature and version, the feature, then "*". */
export function poolSettings(features: readonly FeatureSettings[], feature: string, version: string): PoolSettings {
  const specific = (f: FeatureSettings): number => (f.feature === '*' ? 0 : f.version === undefined ? 1 : 2);
  const applying = features.filter((f) => ruleCovers(f, feature, version)).sort((a, b) => specific(b) - specific(a));
  if (applying.length === 0) return NO_SETTINGS;
  const pick = (k: keyof FeatureSettings): number | undefined => {
    for (const f of applying) {
      const v = f[k];
      if (typeof v === 'number') return v;
    }
    return undefined;
  };
  const ttlMin = pick('leaseTtlSecondsMin');
  const ttlMax = pick('leaseTtlSecondsMax');
  const linger = pick('lingerSecondsMax');
  const borrowHours = pick('borrowHoursMax');
  const lowWater = pick('borrowLowWater');
  const share = pick('borrowSharePercentMax');
  return {
    leaseTtlMsMin: ttlMin === undefined ? 0 : ttlMin * 1000,
    leaseTtlMsMax: ttlMax === undefined ? Number.POSITIVE_INFINITY : ttlMax * 1000,
    lingerMsMax: linger === undefined ? Number.POSITIVE_INFINITY : linger * 1000,
    borrowMsMax: borrowHours === undefined ? Number.POSITIVE_INFINITY : borrowHours * 3_600_000,
    borrowLowWater: lowWater ?? 0,
    borrowSharePercentMax: share ?? 100,
  };
}

/** A max limit as it binds one identity: the counter it counts on and its limit. */
export interface MaxBinding {
  /** Key of Pool.policyHeld. */
  readonly key: string;
  readonly limit: number;
  readonly rule: CompiledRule;
}

/**
 * The max limits that bind `id` in a pool with rules `rules`. A rule naming a
 * principal counts everyone it matches together; a rule `per` user, host or
 * group counts each one apart, except a user, host or group that a rule
 * naming it also limits (the named rule governs it instead).
 */
export function maxBindings(rules: PoolRules, id: PolicyIdentity): MaxBinding[] {
  const out: MaxBinding[] = [];
  for (const r of rules.maxes) {
    const rule = r.rule as MaxRule;
    if (rule.each === undefined) {
      if (ruleMatches(r, id)) out.push({ key: `m${r.index}`, limit: rule.count, rule: r });
      continue;
    }
    const named = (type: 'user' | 'host' | 'group', name: string) =>
      rules.maxes.some((o) => (o.rule as MaxRule).who?.type === type && o.name === name);
    if (rule.each === 'user') {
      if (!named('user', id.user)) out.push({ key: `m${r.index}\nu${id.user}`, limit: rule.count, rule: r });
    } else if (rule.each === 'host') {
      if (!named('host', id.host)) out.push({ key: `m${r.index}\nh${id.host}`, limit: rule.count, rule: r });
    } else {
      for (const g of id.groups) if (!named('group', g)) out.push({ key: `m${r.index}\ng${g}`, limit: rule.count, rule: r });
    }
  }
  return out;
}

/** The seats one max-rule key counts in one pool (Pool.policyHeld); a lease holds references to those it counts on. */
export interface PolicyCounter {
  readonly key: string;
  held: number;
}

/** IdentityRules with the pool's counter of each max binding (`counters[i]` counts `maxes[i]`). */
export interface PoolIdentityRules extends IdentityRules {
  readonly counters: readonly PolicyCounter[];
}

/** What the rules of one pool make of one identity (cached per session until the policy changes). */
export interface IdentityRules {
  /** Why the identity may not use the pool (a sentence naming the rule), or undefined. */
  readonly excluded: string | undefined;
  /** Why it may not borrow from the pool (use rules first, then the borrow lists), or undefined. */
  readonly borrowExcluded: string | undefined;
  readonly maxes: readonly MaxBinding[];
  /** Keys of `maxes`, as a lease records them. */
  readonly keys: readonly string[];
  /** Indexes into PoolRules.reserves of the reservations it may draw on, in document order. */
  readonly reserves: readonly number[];
  /** Queue priority level (0: none). */
  readonly priority: number;
}

const LISTED_RULES_MAX = 3;

function listed(rules: readonly CompiledRule[]): string {
  const shown = rules.slice(0, LISTED_RULES_MAX).map((r) => r.text);
  return rules.length > LISTED_RULES_MAX ? `${shown.join('; ')}; and ${rules.length - LISTED_RULES_MAX} more` : shown.join('; ');
}

function listRefusal(includes: readonly CompiledRule[], excludes: readonly CompiledRule[], id: PolicyIdentity, who: string, what: string): string | undefined {
  const ex = excludes.find((r) => ruleMatches(r, id));
  if (ex !== undefined) return `Policy rule "${ex.text}" refuses ${who}.`;
  if (includes.length > 0 && !includes.some((r) => ruleMatches(r, id))) {
    return `${who} is not on the include list that decides who may ${what}: ${listed(includes)}.`;
  }
  return undefined;
}

/** What `rules` make of `id`; `who` names it in refusals ("alice on ws-17"). */
export function identityRules(rules: PoolRules, id: PolicyIdentity, who: string): IdentityRules {
  const excluded = listRefusal(rules.includes, rules.excludes, id, who, 'use it');
  const borrowExcluded = excluded ?? listRefusal(rules.borrowIncludes, rules.borrowExcludes, id, who, 'borrow it');
  const maxes = maxBindings(rules, id);
  const reserves: number[] = [];
  rules.reserves.forEach((r, i) => {
    if (ruleMatches(r, id)) reserves.push(i);
  });
  let priority = 0;
  for (const r of rules.priorities) if (r.rule.kind === 'priority' && r.rule.level > priority && ruleMatches(r, id)) priority = r.rule.level;
  return { excluded, borrowExcluded, maxes, keys: maxes.map((m) => m.key), reserves, priority };
}
