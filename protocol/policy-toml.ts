// Floe's own policy format: TOML (smol-toml, a maintained, dependency-free,
// spec-complete parser that reports line and column), shaped as
// docs/policy.md shows:
//
//   case_sensitive = false
//   [groups]
//   interns = ["dave", "erin"]
//   [host_groups]
//   lab = ["ws-1", "10.1.0.0/16"]
//   [[rules]]                     # one of include, exclude, include_borrow,
//   feature = "cad"               # exclude_borrow ("who"), reserve, max,
//   exclude = "group:interns"     # priority (a number, with for = "who";
//   [[settings]]                  # max may say per = "user" instead)
//   feature = "cad"
//   lease_ttl_seconds_max = 600
//
// Every problem is a diagnostic with a line and column: TOML syntax from the
// parser, field problems at the line of their [[rules]] or [[settings]]
// header. Pure, never throws.
import { parse, TomlError } from 'smol-toml';
import { parseIpPattern, looksLikeIp } from './ip-pattern.ts';
import {
  checkPolicyReferences,
  parseWho,
  POLICY_LIMITS,
  validFeature,
  validName,
  validVersion,
  type FeatureSettings,
  type MaxEach,
  type PolicyDiagnostic,
  type PolicyParse,
  type PolicyRule,
  type Who,
} from './policy.ts';

const RULE_KINDS = ['include', 'exclude', 'include_borrow', 'exclude_borrow', 'reserve', 'max', 'priority'] as const;
const SETTING_KEYS: Record<string, { field: keyof FeatureSettings; min: number; max: number }> = {
  lease_ttl_seconds_max: { field: 'leaseTtlSecondsMax', min: 1, max: POLICY_LIMITS.durationSecondsMax },
  lease_ttl_seconds_min: { field: 'leaseTtlSecondsMin', min: 1, max: POLICY_LIMITS.durationSecondsMax },
  linger_seconds_max: { field: 'lingerSecondsMax', min: 0, max: POLICY_LIMITS.durationSecondsMax },
  borrow_hours_max: { field: 'borrowHoursMax', min: 0, max: POLICY_LIMITS.borrowHoursMax },
  borrow_low_water: { field: 'borrowLowWater', min: 0, max: POLICY_LIMITS.countMax },
  borrow_share_percent_max: { field: 'borrowSharePercentMax', min: 0, max: 100 },
};

/** `text` with every character a regular expression gives a meaning escaped. */
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Lines of the `[[name]]` headers in `text`, in order. */
function headerLines(lines: readonly string[], name: string): number[] {
  const re = new RegExp(`^\\s*\\[\\[\\s*${name}\\s*\\]\\]`);
  const out: number[] = [];
  lines.forEach((l, i) => {
    if (re.test(l)) out.push(i + 1);
  });
  return out;
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Parses Floe's TOML policy format into a Policy (see the file comment). */
export function parsePolicyToml(text: unknown): PolicyParse {
  const errors: PolicyDiagnostic[] = [];
  const warnings: PolicyDiagnostic[] = [];
  if (typeof text !== 'string') return { ok: false, errors: [{ line: 0, column: 0, code: 'POLICY_SYNTAX', message: 'the policy text must be a string' }], warnings };
  if (new TextEncoder().encode(text).length > POLICY_LIMITS.textBytesMax) {
    return { ok: false, errors: [{ line: 0, column: 0, code: 'POLICY_TOO_LARGE', message: `the policy text is larger than ${POLICY_LIMITS.textBytesMax} bytes` }], warnings };
  }
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let doc: Record<string, unknown>;
  try {
    doc = parse(body) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof TomlError) {
      const first = e.message.split('\n')[0] ?? 'invalid TOML';
      return { ok: false, errors: [{ line: e.line, column: e.column, code: 'POLICY_SYNTAX', message: first.replace(/^Invalid TOML document: /, '') }], warnings };
    }
    return { ok: false, errors: [{ line: 0, column: 0, code: 'POLICY_SYNTAX', message: 'the text is not TOML' }], warnings };
  }
  const lines = body.split(/\r\n|\n|\r/);
  const keyLine = (key: string): number => {
    // The key as TOML may spell it: bare, "quoted" or 'literal' (a key is any text, so it is escaped).
    const k = escapeRegExp(key);
    const re = new RegExp(`^\\s*(?:${k}|"${k}"|'${k}')\\s*=`);
    const i = lines.findIndex((l) => re.test(l));
    return i < 0 ? 0 : i + 1;
  };
  const err = (line: number, code: string, message: string) => {
    if (errors.length < POLICY_LIMITS.diagnosticsMax) errors.push({ line, column: line > 0 ? 1 : 0, code, message });
  };

  for (const key of Object.keys(doc)) {
    if (!['case_sensitive', 'groups', 'host_groups', 'rules', 'settings'].includes(key)) err(keyLine(key), 'POLICY_SYNTAX', `unknown key "${key.slice(0, 40)}" (case_sensitive, groups, host_groups, rules, settings)`);
  }
  let caseSensitive = false;
  if (doc['case_sensitive'] !== undefined) {
    if (typeof doc['case_sensitive'] !== 'boolean') err(keyLine('case_sensitive'), 'POLICY_SYNTAX', 'case_sensitive is true or false');
    else caseSensitive = doc['case_sensitive'];
  }

  const groupTable = (key: 'groups' | 'host_groups'): [string, string[]][] => {
    const v = doc[key];
    if (v === undefined) return [];
    if (!isTable(v)) {
      err(keyLine(key), 'POLICY_SYNTAX', `${key} is a table of name = ["member", …]`);
      return [];
    }
    const out: [string, string[]][] = [];
    for (const [name, members] of Object.entries(v)) {
      const line = keyLine(name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) || keyLine(`"${name}"`);
      if (!validName(name)) err(line, 'POLICY_SYNTAX', `"${name.slice(0, 40)}" is not a group name`);
      else if (!Array.isArray(members) || !members.every((m) => typeof m === 'string' && validName(m))) {
        err(line, 'POLICY_SYNTAX', `group ${name} is a list of names`);
      } else if (key === 'host_groups' && members.some((m) => looksLikeIp(m as string) && parseIpPattern(m) === undefined)) {
        err(line, 'POLICY_SYNTAX', `host group ${name} lists something that is neither a host name nor an IP pattern`);
      } else out.push([name, members as string[]]);
    }
    return out;
  };
  const groups = groupTable('groups');
  const hostGroups = groupTable('host_groups');

  const scopeOf = (t: Record<string, unknown>, line: number, allowStar: boolean): { feature: string; version?: string } | undefined => {
    const feature = t['feature'];
    if (typeof feature !== 'string' || !validFeature(feature) || (!allowStar && feature === '*')) {
      err(line, 'POLICY_SYNTAX', allowStar ? 'feature is a feature name or "*"' : 'feature is a feature name');
      return undefined;
    }
    const version = t['version'];
    if (version === undefined) return { feature };
    if (typeof version !== 'string' || !validVersion(version) || feature === '*') {
      err(line, 'POLICY_SYNTAX', feature === '*' ? 'version needs a feature, not "*"' : 'version is dot-separated integers, as a string ("29")');
      return undefined;
    }
    return { feature, version };
  };
  const whoOf = (v: unknown, line: number, key: string): Who | undefined => {
    const who = typeof v === 'string' ? parseWho(v) : undefined;
    if (who === undefined) {
      err(line, 'POLICY_SYNTAX', `${key} names whom as "user:NAME", "host:NAME", "group:NAME", "host_group:NAME", "ip:PATTERN" or "app:NAME"`);
      return undefined;
    }
    if (who.type === 'ip' && parseIpPattern(who.name) === undefined) {
      err(line, 'POLICY_SYNTAX', `"${who.name}" is not an IP address or pattern (10.1.2.3, 10.1.*.*, 10.0.0.0/8)`);
      return undefined;
    }
    return who;
  };
  const intOf = (v: unknown, min: number, max: number, line: number, key: string): number | undefined => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      err(line, 'POLICY_SYNTAX', `${key} is a whole number from ${min} to ${max}`);
      return undefined;
    }
    return v;
  };

  const rules: PolicyRule[] = [];
  const rawRules = doc['rules'];
  if (rawRules !== undefined && !Array.isArray(rawRules)) err(keyLine('rules'), 'POLICY_SYNTAX', 'rules is an array of tables: [[rules]]');
  const ruleList = Array.isArray(rawRules) ? rawRules : [];
  if (ruleList.length > POLICY_LIMITS.rulesMax) err(0, 'POLICY_TOO_LARGE', `more than ${POLICY_LIMITS.rulesMax} rules`);
  const ruleLines = headerLines(lines, 'rules');
  ruleList.slice(0, POLICY_LIMITS.rulesMax).forEach((t, i) => {
    const line = ruleLines.length === ruleList.length ? (ruleLines[i] as number) : 0;
    if (!isTable(t)) return err(line, 'POLICY_SYNTAX', 'each rule is a table');
    const kinds = RULE_KINDS.filter((k) => t[k] !== undefined);
    if (kinds.length !== 1) return err(line, 'POLICY_SYNTAX', `a rule has exactly one of ${RULE_KINDS.join(', ')}`);
    const kind = kinds[0] as (typeof RULE_KINDS)[number];
    const allowed = new Set(['feature', 'version', kind, ...(kind === 'reserve' || kind === 'max' || kind === 'priority' ? ['for'] : []), ...(kind === 'max' ? ['per'] : [])]);
    const unknown = Object.keys(t).find((k) => !allowed.has(k));
    if (unknown !== undefined) return err(line, 'POLICY_SYNTAX', `a ${kind} rule has no key "${unknown.slice(0, 40)}"`);
    const spec = scopeOf(t, line, kind !== 'reserve');
    if (spec === undefined) return;
    if (kind === 'include' || kind === 'exclude' || kind === 'include_borrow' || kind === 'exclude_borrow') {
      const who = whoOf(t[kind], line, kind);
      if (who !== undefined) rules.push({ kind: kind.startsWith('include') ? 'include' : 'exclude', scope: kind.endsWith('_borrow') ? 'borrow' : 'use', ...spec, line, who });
      return;
    }
    if (kind === 'priority') {
      const level = intOf(t[kind], 1, POLICY_LIMITS.priorityLevelMax, line, 'priority');
      const who = whoOf(t['for'], line, 'for');
      if (level !== undefined && who !== undefined) rules.push({ kind, level, ...spec, line, who });
      return;
    }
    const n = intOf(t[kind], kind === 'reserve' ? 1 : 0, POLICY_LIMITS.countMax, line, kind);
    if (kind === 'max' && t['per'] !== undefined) {
      const per = t['per'];
      if (t['for'] !== undefined) return err(line, 'POLICY_SYNTAX', 'a max rule has for or per, not both');
      if (per !== 'user' && per !== 'host' && per !== 'group') return err(line, 'POLICY_SYNTAX', 'per is "user", "host" or "group"');
      if (n !== undefined) rules.push({ kind, count: n, ...spec, line, each: per as MaxEach });
      return;
    }
    const who = whoOf(t['for'], line, 'for');
    if (n !== undefined && who !== undefined) rules.push(kind === 'reserve' ? { kind, count: n, ...spec, line, who } : { kind, count: n, ...spec, line, who });
  });

  const features: FeatureSettings[] = [];
  const rawSettings = doc['settings'];
  if (rawSettings !== undefined && !Array.isArray(rawSettings)) err(keyLine('settings'), 'POLICY_SYNTAX', 'settings is an array of tables: [[settings]]');
  const settingList = Array.isArray(rawSettings) ? rawSettings : [];
  if (settingList.length > POLICY_LIMITS.featureSettingsMax) err(0, 'POLICY_TOO_LARGE', `more than ${POLICY_LIMITS.featureSettingsMax} settings`);
  const settingLines = headerLines(lines, 'settings');
  const seen = new Map<string, number>();
  settingList.slice(0, POLICY_LIMITS.featureSettingsMax).forEach((t, i) => {
    const line = settingLines.length === settingList.length ? (settingLines[i] as number) : 0;
    if (!isTable(t)) return err(line, 'POLICY_SYNTAX', 'each settings entry is a table');
    const spec = scopeOf(t, line, true);
    if (spec === undefined) return;
    const key = `${spec.feature}\n${spec.version ?? ''}`;
    const before = seen.get(key);
    if (before !== undefined) return err(line, 'POLICY_INVALID', `settings for ${spec.feature}${spec.version !== undefined ? ` ${spec.version}` : ''} are already on line ${before}`);
    seen.set(key, line);
    const s: { -readonly [K in keyof FeatureSettings]: FeatureSettings[K] } = { ...spec, line };
    for (const [k, v] of Object.entries(t)) {
      if (k === 'feature' || k === 'version') continue;
      const def = SETTING_KEYS[k];
      if (def === undefined) {
        err(line, 'POLICY_SYNTAX', `settings have no key "${k.slice(0, 40)}" (${Object.keys(SETTING_KEYS).join(', ')})`);
        continue;
      }
      const n = intOf(v, def.min, def.max, line, k);
      if (n !== undefined) (s as Record<string, unknown>)[def.field] = n;
    }
    if (s.leaseTtlSecondsMin !== undefined && s.leaseTtlSecondsMax !== undefined && s.leaseTtlSecondsMin > s.leaseTtlSecondsMax) {
      return err(line, 'POLICY_INVALID', 'lease_ttl_seconds_min is above lease_ttl_seconds_max');
    }
    features.push(s);
  });

  const policy = { caseSensitive, groups, hostGroups, rules, features };
  if (errors.length === 0) errors.push(...checkPolicyReferences(policy).slice(0, POLICY_LIMITS.diagnosticsMax));
  if (errors.length > 0) return { ok: false, errors: errors.sort((a, b) => a.line - b.line || a.column - b.column), warnings };
  return { ok: true, policy, warnings };
}
