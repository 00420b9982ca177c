// FlexNet (FLEXlm) options files, imported as they are: the keywords admins
// use (GROUP, HOST_GROUP, GROUPCASEINSENSITIVE, INCLUDE[ALL][_BORROW],
// EXCLUDE[ALL][_BORROW], RESERVE, MAX, TIMEOUT[ALL], LINGER,
// MAX_BORROW_HOURS, BORROW_LOWWATER) become a Policy value; logging and
// daemon keywords (NOLOG, REPORTLOG, DEBUGLOG, …) are accepted and reported
// as ignored; anything else is an error at its line and column, so a typo
// never silently drops a rule. How each keyword maps, and where Floe's
// meaning differs from FlexNet's, is in docs/policy.md. Pure, never throws.
import { looksLikeIp, parseIpPattern } from './ip-pattern.ts';
import {
  checkPolicyReferences,
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
import { readPolicyLines, type PolicyToken } from './policy-lines.ts';

/** Keywords of options files that do not concern seats: accepted, reported as ignored. */
const IGNORED_KEYWORDS = new Set([
  'NOLOG',
  'REPORTLOG',
  'DEBUGLOG',
  'AUTOMATIC_REREAD',
  'FQDN_MATCHING',
  'MAX_CONNECTIONS',
  'DAEMON_SELECT_TIMEOUT',
  'MAX_OVERDRAFT',
  'ACTIVATION_LOWWATER',
  'ACTIVATION_EXPIRY_DAYS',
  'INCLUDE_ENTITLEMENT',
  'EXCLUDE_ENTITLEMENT',
  'INCLUDEALL_ENTITLEMENT',
  'EXCLUDEALL_ENTITLEMENT',
]);

type SettingField = 'leaseTtlSecondsMax' | 'lingerSecondsMax' | 'borrowHoursMax' | 'borrowLowWater';

/** Parses an options file's text into a Policy (see the file comment). */
export function parseOptionsFile(text: unknown): PolicyParse {
  const errors: PolicyDiagnostic[] = [];
  const warnings: PolicyDiagnostic[] = [];
  if (typeof text !== 'string') return { ok: false, errors: [{ line: 0, column: 0, code: 'POLICY_SYNTAX', message: 'the policy text must be a string' }], warnings };
  if (new TextEncoder().encode(text).length > POLICY_LIMITS.textBytesMax) {
    return { ok: false, errors: [{ line: 0, column: 0, code: 'POLICY_TOO_LARGE', message: `the policy text is larger than ${POLICY_LIMITS.textBytesMax} bytes` }], warnings };
  }
  const err = (t: PolicyToken | { line: number; column: number }, code: string, message: string) => {
    if (errors.length < POLICY_LIMITS.diagnosticsMax) errors.push({ line: t.line, column: t.column, code, message });
  };
  const warn = (t: { line: number; column: number }, code: string, message: string) => {
    if (warnings.length < POLICY_LIMITS.diagnosticsMax) warnings.push({ line: t.line, column: t.column, code, message });
  };

  let caseSensitive = false;
  const groups = new Map<string, string[]>();
  const hostGroups = new Map<string, string[]>();
  const rules: PolicyRule[] = [];
  /** Settings by `${feature}\n${version}`, with the line that set each field. */
  const settings = new Map<string, { s: { -readonly [K in keyof FeatureSettings]: FeatureSettings[K] }; lines: Map<SettingField, number> }>();

  const lines = readPolicyLines(text, POLICY_LIMITS.lineCharsMax, errors);
  for (const { tokens } of lines) {
    if (tokens.length === 0) continue;
    const kw = tokens[0] as PolicyToken;
    const keyword = kw.text.toUpperCase();
    const args = tokens.slice(1);
    const need = (n: number, usage: string): boolean => {
      if (args.length === n) return true;
      const extra = args[n];
      if (extra !== undefined) err(extra, 'POLICY_SYNTAX', `${keyword} takes ${usage}; this is one word too many`);
      else err({ line: kw.line, column: kw.column + kw.text.length }, 'POLICY_SYNTAX', `${keyword} takes ${usage}`);
      return false;
    };

    /** feature[:VERSION=v] → feature and version, or undefined (error reported). */
    const featureSpec = (t: PolicyToken): { feature: string; version?: string } | undefined => {
      const colon = t.text.indexOf(':');
      const feature = colon < 0 ? t.text : t.text.slice(0, colon);
      if (!validFeature(feature) || feature === '*') {
        err(t, 'POLICY_SYNTAX', `"${feature}" is not a feature name`);
        return undefined;
      }
      if (colon < 0) return { feature };
      const m = /^([A-Za-z_]+)=(.*)$/.exec(t.text.slice(colon + 1));
      const column = t.column + colon + 1;
      if (m === null) {
        err({ line: t.line, column }, 'POLICY_SYNTAX', 'a feature modifier is keyword=value, as in cad:VERSION=29');
        return undefined;
      }
      if ((m[1] as string).toUpperCase() !== 'VERSION') {
        err({ line: t.line, column }, 'POLICY_UNSUPPORTED', `the feature modifier ${m[1]} is not supported: Floe tells pools apart by VERSION only`);
        return undefined;
      }
      if (!validVersion(m[2] as string)) {
        err({ line: t.line, column }, 'POLICY_SYNTAX', `VERSION=${m[2]} is not a version (dot-separated integers)`);
        return undefined;
      }
      return { feature, version: m[2] as string };
    };

    /** TYPE name → a principal, or an `each` for MAX's ALL_USERS / ALL_GROUPS; undefined after an error. */
    const principal = (typeTok: PolicyToken, nameTok: PolicyToken, allowEach: boolean): Who | { each: MaxEach } | undefined => {
      const type = typeTok.text.toUpperCase();
      const name = nameTok.text;
      if (!validName(name)) {
        err(nameTok, 'POLICY_SYNTAX', `"${name.slice(0, 40)}" is not a name (1–${POLICY_LIMITS.nameCharsMax} characters, no control characters)`);
        return undefined;
      }
      switch (type) {
        case 'USER':
          if (name === 'ALL_USERS') {
            if (allowEach) return { each: 'user' };
            err(nameTok, 'POLICY_UNSUPPORTED', 'USER ALL_USERS is understood by MAX only');
            return undefined;
          }
          return { type: 'user', name };
        case 'HOST':
          if (looksLikeIp(name)) {
            if (parseIpPattern(name) === undefined) {
              err(nameTok, 'POLICY_SYNTAX', `"${name}" is not an IP address or pattern`);
              return undefined;
            }
            return { type: 'ip', name };
          }
          return { type: 'host', name };
        case 'GROUP':
          if (name === 'ALL_GROUPS') {
            if (allowEach) return { each: 'group' };
            err(nameTok, 'POLICY_UNSUPPORTED', 'GROUP ALL_GROUPS is understood by MAX only');
            return undefined;
          }
          return { type: 'group', name };
        case 'HOST_GROUP':
          return { type: 'host-group', name };
        case 'INTERNET':
          if (parseIpPattern(name) === undefined) {
            err(nameTok, 'POLICY_SYNTAX', `"${name}" is not an IP address or pattern (10.1.2.3, 10.1.*.*, 10.0.0.0/8)`);
            return undefined;
          }
          return { type: 'ip', name };
        case 'PROJECT':
          return { type: 'app', name };
        case 'DISPLAY':
          err(typeTok, 'POLICY_UNSUPPORTED', 'DISPLAY is not supported: Floe clients report user, host, IP address and application');
          return undefined;
        default:
          err(typeTok, 'POLICY_SYNTAX', `"${typeTok.text}" is not a type (USER, HOST, GROUP, HOST_GROUP, INTERNET, PROJECT)`);
          return undefined;
      }
    };

    const count = (t: PolicyToken, min: number, max: number, what: string): number | undefined => {
      if (!/^\d{1,9}$/.test(t.text) || Number(t.text) < min || Number(t.text) > max) {
        err(t, 'POLICY_SYNTAX', `${what} must be a whole number from ${min} to ${max}, not "${t.text}"`);
        return undefined;
      }
      return Number(t.text);
    };

    const setting = (fTok: PolicyToken | undefined, field: SettingField, value: number) => {
      const spec = fTok === undefined ? { feature: '*' } : featureSpec(fTok);
      if (spec === undefined) return;
      const key = `${spec.feature}\n${spec.version ?? ''}`;
      let entry = settings.get(key);
      if (entry === undefined) {
        if (settings.size >= POLICY_LIMITS.featureSettingsMax) return err(kw, 'POLICY_TOO_LARGE', `more than ${POLICY_LIMITS.featureSettingsMax} features with settings`);
        entry = { s: { feature: spec.feature, line: kw.line, ...(spec.version !== undefined ? { version: spec.version } : {}) }, lines: new Map() };
        settings.set(key, entry);
      }
      const before = entry.lines.get(field);
      // FlexNet applies the last of repeated lines; say so rather than drop one silently.
      if (before !== undefined) warn(kw, 'POLICY_OVERRIDDEN', `this ${keyword} replaces the one on line ${before}`);
      entry.s[field] = value;
      entry.lines.set(field, kw.line);
    };

    switch (keyword) {
      case 'GROUP':
      case 'HOST_GROUP': {
        if (args.length < 1) {
          err({ line: kw.line, column: kw.column + kw.text.length }, 'POLICY_SYNTAX', `${keyword} takes a group name and its members`);
          break;
        }
        const nameTok = args[0] as PolicyToken;
        if (!validName(nameTok.text)) {
          err(nameTok, 'POLICY_SYNTAX', `"${nameTok.text.slice(0, 40)}" is not a group name`);
          break;
        }
        const table = keyword === 'GROUP' ? groups : hostGroups;
        const members: string[] = [];
        let bad = false;
        for (const m of args.slice(1)) {
          if (!validName(m.text)) {
            err(m, 'POLICY_SYNTAX', `"${m.text.slice(0, 40)}" is not a member name`);
            bad = true;
          } else if (keyword === 'HOST_GROUP' && looksLikeIp(m.text) && parseIpPattern(m.text) === undefined) {
            err(m, 'POLICY_SYNTAX', `"${m.text}" is not an IP address or pattern`);
            bad = true;
          } else members.push(m.text);
        }
        if (bad) break;
        if (members.length === 0) warn(nameTok, 'POLICY_INVALID', `${keyword} ${nameTok.text} lists no members`);
        // Repeated GROUP lines of one name add their members up, as FlexNet does.
        const list = table.get(nameTok.text);
        if (list === undefined) table.set(nameTok.text, members);
        else list.push(...members);
        break;
      }
      case 'GROUPCASEINSENSITIVE': {
        if (!need(1, 'ON or OFF')) break;
        const v = (args[0] as PolicyToken).text.toUpperCase();
        if (v !== 'ON' && v !== 'OFF') err(args[0] as PolicyToken, 'POLICY_SYNTAX', 'GROUPCASEINSENSITIVE takes ON or OFF');
        else caseSensitive = v === 'OFF';
        break;
      }
      case 'INCLUDE':
      case 'EXCLUDE':
      case 'INCLUDE_BORROW':
      case 'EXCLUDE_BORROW': {
        if (!need(3, 'a feature, a type and a name')) break;
        const spec = featureSpec(args[0] as PolicyToken);
        const who = principal(args[1] as PolicyToken, args[2] as PolicyToken, false);
        if (spec === undefined || who === undefined || 'each' in who) break;
        rules.push({
          kind: keyword.startsWith('INCLUDE') ? 'include' : 'exclude',
          scope: keyword.endsWith('_BORROW') ? 'borrow' : 'use',
          ...spec,
          line: kw.line,
          who,
        });
        break;
      }
      case 'INCLUDEALL':
      case 'EXCLUDEALL': {
        if (!need(2, 'a type and a name')) break;
        const who = principal(args[0] as PolicyToken, args[1] as PolicyToken, false);
        if (who === undefined || 'each' in who) break;
        rules.push({ kind: keyword === 'INCLUDEALL' ? 'include' : 'exclude', scope: 'use', feature: '*', line: kw.line, who });
        break;
      }
      case 'RESERVE':
      case 'MAX': {
        if (!need(4, 'a number of seats, a feature, a type and a name')) break;
        const n = count(args[0] as PolicyToken, keyword === 'RESERVE' ? 1 : 0, POLICY_LIMITS.countMax, 'the number of seats');
        const spec = featureSpec(args[1] as PolicyToken);
        const who = principal(args[2] as PolicyToken, args[3] as PolicyToken, keyword === 'MAX');
        if (n === undefined || spec === undefined || who === undefined) break;
        if (keyword === 'RESERVE') rules.push({ kind: 'reserve', count: n, ...spec, line: kw.line, who: who as Who });
        else rules.push({ kind: 'max', count: n, ...spec, line: kw.line, ...('each' in who ? { each: who.each } : { who }) });
        break;
      }
      case 'TIMEOUT':
      case 'LINGER':
      case 'MAX_BORROW_HOURS':
      case 'BORROW_LOWWATER': {
        if (!need(2, 'a feature and a number')) break;
        const field: SettingField =
          keyword === 'TIMEOUT' ? 'leaseTtlSecondsMax' : keyword === 'LINGER' ? 'lingerSecondsMax' : keyword === 'MAX_BORROW_HOURS' ? 'borrowHoursMax' : 'borrowLowWater';
        const max = field === 'borrowHoursMax' ? POLICY_LIMITS.borrowHoursMax : field === 'borrowLowWater' ? POLICY_LIMITS.countMax : POLICY_LIMITS.durationSecondsMax;
        const v = count(args[1] as PolicyToken, field === 'leaseTtlSecondsMax' ? 1 : 0, max, keyword === 'MAX_BORROW_HOURS' ? 'the hours' : keyword === 'BORROW_LOWWATER' ? 'the seats' : 'the seconds');
        if (v !== undefined) setting(args[0] as PolicyToken, field, v);
        break;
      }
      case 'TIMEOUTALL': {
        if (!need(1, 'a number of seconds')) break;
        const v = count(args[0] as PolicyToken, 1, POLICY_LIMITS.durationSecondsMax, 'the seconds');
        if (v !== undefined) setting(undefined, 'leaseTtlSecondsMax', v);
        break;
      }
      default:
        if (IGNORED_KEYWORDS.has(keyword)) warn(kw, 'POLICY_IGNORED', `${keyword} does not concern seats; Floe ignores it`);
        else err(kw, 'POLICY_UNKNOWN_KEYWORD', `"${kw.text.slice(0, 40)}" is not an options-file keyword Floe knows`);
    }
    if (rules.length > POLICY_LIMITS.rulesMax) {
      err(kw, 'POLICY_TOO_LARGE', `more than ${POLICY_LIMITS.rulesMax} rules`);
      break;
    }
  }
  const policy = {
    caseSensitive,
    groups: [...groups.entries()],
    hostGroups: [...hostGroups.entries()],
    rules,
    features: [...settings.values()].map((e) => e.s as FeatureSettings),
  };
  if (errors.length === 0) errors.push(...checkPolicyReferences(policy).slice(0, POLICY_LIMITS.diagnosticsMax));
  if (errors.length > 0) return { ok: false, errors: errors.sort((a, b) => a.line - b.line || a.column - b.column), warnings };
  return { ok: true, policy, warnings };
}
