// Fuzz target: seat-policy texts as PUT /policy and `floe policy check` take
// them, in both formats. Options files are built from lines a site might
// write (every keyword Floe reads, with hostile names, counts, versions and
// IP patterns) joined by any line end, with a byte-order mark, backslash
// continuations and comments thrown in; TOML policies from a valid one with
// one field changed; and random text for both. Every answer must be a policy
// or errors, each diagnostic with a line, a column and an UPPER_CASE code.
import fc from 'fast-check';
import { stringify as stringifyToml } from 'smol-toml';
import { parsePolicy, POLICY_LIMITS, type PolicyDiagnostic, type PolicyFormat } from '../../../protocol/index.ts';
import type { FuzzTarget } from '../fuzz-target.ts';
import { applyMutation, fieldName, isErrorCode, mutation, randomText, TRICKY_STRINGS, HUGE_NUMBER_TEXTS } from '../hostile-values.ts';

const KEYWORDS = [
  'GROUP', 'HOST_GROUP', 'GROUPCASEINSENSITIVE', 'INCLUDE', 'EXCLUDE', 'INCLUDE_BORROW', 'EXCLUDE_BORROW', 'INCLUDEALL', 'EXCLUDEALL',
  'RESERVE', 'MAX', 'TIMEOUT', 'TIMEOUTALL', 'LINGER', 'MAX_BORROW_HOURS', 'BORROW_LOWWATER', 'NOLOG', 'REPORTLOG', 'DEBUGLOG', 'include', 'Reserve',
];
const TYPES = ['USER', 'HOST', 'GROUP', 'HOST_GROUP', 'INTERNET', 'PROJECT', 'DISPLAY', 'user', 'ALL_USERS'];

/** One word of an options-file line: a name, a count, a feature with modifiers, an IP pattern, or something hostile. */
const word: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('cad', 'alice', 'eng', 'lab', 'ws-1', '*', 'ALL_USERS', 'ALL_GROUPS', 'ON', 'OFF', '"a b"', '"', '\\') },
  { weight: 2, arbitrary: fc.constantFrom(...TYPES) },
  { weight: 2, arbitrary: fc.constantFrom('0', '1', '2', '-1', '1.5', '1e3', '00', ...HUGE_NUMBER_TEXTS) },
  { weight: 2, arbitrary: fc.constantFrom('cad:VERSION=29', 'cad:VERSION=', 'cad:HOSTID=abc', 'cad:', ':VERSION=1', 'cad:VERSION=1:VERSION=2', 'cad:KEY=1') },
  { weight: 2, arbitrary: fc.constantFrom('10.1.*.*', '10.*', '*.*.*.*', '10.0.0.0/8', '10.0.0.0/33', '::ffff:10.1.2.3', 'fe80::1/129', '256.1.1.1', '1.2.3') },
  { weight: 1, arbitrary: fc.constantFrom(...TRICKY_STRINGS.filter((s) => s.length < 200)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);

/** An options-file line: a keyword and words, a comment, blank, or a continuation. */
const optionsLine: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom(...KEYWORDS), fc.array(word, { maxLength: 6 }), fc.constantFrom(' ', '\t', '  '), fc.constantFrom('', ' \\', '\\', '\t'))
      .map(([k, ws, gap, tail]) => `${k}${gap}${ws.join(gap)}${tail}`),
  },
  { weight: 1, arbitrary: word.map((w) => `# ${w}`) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\\', '#', '\ufeff', '\u0000') },
);

const optionsText: fc.Arbitrary<string> = fc
  .record({ bom: fc.boolean(), lines: fc.array(optionsLine, { maxLength: 30 }), end: fc.constantFrom('\n', '\r\n', '\r', '\n\r') })
  .map(({ bom, lines, end }) => `${bom ? '\ufeff' : ''}${lines.join(end)}`);

const VALID_TOML = {
  case_sensitive: false,
  groups: { eng: ['alice', 'bob'], interns: ['dave'] },
  host_groups: { lab: ['ws-1', '10.1.0.0/16'] },
  rules: [
    { feature: 'cad', reserve: 1, for: 'user:alice' },
    { feature: 'cad', version: '29', exclude: 'group:interns' },
    { feature: 'cad', max: 2, per: 'user' },
    { feature: '*', priority: 5, for: 'group:eng' },
    { feature: 'cad', include: 'host_group:lab' },
  ],
  settings: [{ feature: 'cad', lease_ttl_seconds_max: 120, linger_seconds_max: 60, borrow_hours_max: 72, borrow_low_water: 2, borrow_share_percent_max: 50 }],
};

const tomlValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('inf', 'nan', '-1', '0', '1e400', '9223372036854775807', '"user:"', '"ip:10.0.0.0/40"', '"group:nobody"', '"*"', '[]', '{}', '1979-05-27', 'true', '"user:alice"'),
  fc.constantFrom(...TRICKY_STRINGS.filter((s) => s.length < 200)).map((s) => JSON.stringify(s)),
);

/** A key TOML can write (a lone surrogate cannot be UTF-8, so no TOML file holds one). */
const tomlKey: fc.Arbitrary<string> = fieldName.filter((k) => /^(?:[\ud800-\udbff][\udc00-\udfff]|[^\ud800-\udfff])*$/.test(k));

const tomlText: fc.Arbitrary<string> = mutation(VALID_TOML, tomlValue, tomlKey).map((m) =>
  applyMutation(VALID_TOML, m, (doc) => stringifyToml(doc as Record<string, unknown>), (s) => stringifyToml({ x: s }).slice(4).trim()),
);

const input: fc.Arbitrary<{ format: PolicyFormat; text: string }> = fc.oneof(
  { weight: 4, arbitrary: optionsText.map((text) => ({ format: 'flexlm-options' as const, text })) },
  { weight: 3, arbitrary: tomlText.map((text) => ({ format: 'floe' as const, text })) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom<PolicyFormat>('floe', 'flexlm-options'), randomText).map(([format, text]) => ({ format, text })) },
);

function checkDiagnostic(d: PolicyDiagnostic): void {
  if (!Number.isSafeInteger(d.line) || d.line < 0 || !Number.isSafeInteger(d.column) || d.column < 0) throw new Error(`a diagnostic at ${d.line}:${d.column}`);
  if (!isErrorCode(d.code) || !d.code.startsWith('POLICY_')) throw new Error(`a diagnostic coded ${String(d.code)}`);
  if (typeof d.message !== 'string' || d.message.length === 0) throw new Error('a diagnostic without a message');
}

/** Policy texts: parsePolicy() answers a policy within the limits or errors with line and column. */
export const policyTextsTarget: FuzzTarget = {
  name: 'policy-texts',
  claim: 'a policy text of any content, in either format, answers a policy or errors with line and column, and never throws',
  runsInTest: 400,
  open: async () => ({
    property: fc.property(input, ({ format, text }) => {
      const parsed = parsePolicy(format, text);
      for (const w of parsed.warnings) checkDiagnostic(w);
      if (!parsed.ok) {
        if (parsed.errors.length === 0) throw new Error('refused with no error');
        if (parsed.errors.length + parsed.warnings.length > POLICY_LIMITS.diagnosticsMax + 2) throw new Error(`${parsed.errors.length} errors reported`);
        for (const e of parsed.errors) checkDiagnostic(e);
        return;
      }
      if (parsed.policy.rules.length > POLICY_LIMITS.rulesMax) throw new Error(`accepted ${parsed.policy.rules.length} rules`);
    }),
    close: async () => {},
  }),
};
