import { describe, expect, it } from 'vitest';
import type { PolicyDiagnostic } from './policy.ts';
import { parsePolicyToml } from './policy-toml.ts';

const EXAMPLE = `# who works here
case_sensitive = false

[groups]
eng = ["alice", "bob", "carol"]
interns = ["dave", "erin"]

[host_groups]
lab = ["ws-1", "ws-2", "10.1.0.0/16"]

[[rules]]
feature = "cad"
reserve = 1
for = "user:alice"

[[rules]]
feature = "cad"
exclude = "group:interns"

[[rules]]
feature = "cad"
max = 2
per = "user"

[[rules]]
feature = "*"
priority = 5
for = "group:eng"

[[rules]]
feature = "cad"
version = "29"
include_borrow = "host_group:lab"

[[settings]]
feature = "cad"
lease_ttl_seconds_max = 120
linger_seconds_max = 60
borrow_hours_max = 72
borrow_low_water = 2
borrow_share_percent_max = 50
`;

function errors(text: unknown): readonly PolicyDiagnostic[] {
  const r = parsePolicyToml(text);
  if (r.ok) throw new Error('expected errors');
  return r.errors;
}

describe("Floe's TOML policy format", () => {
  it('reads the example of docs/policy.md, each rule at the line of its [[rules]] header', () => {
    const r = parsePolicyToml(EXAMPLE);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.policy).toEqual({
      caseSensitive: false,
      groups: [
        ['eng', ['alice', 'bob', 'carol']],
        ['interns', ['dave', 'erin']],
      ],
      hostGroups: [['lab', ['ws-1', 'ws-2', '10.1.0.0/16']]],
      rules: [
        { kind: 'reserve', count: 1, feature: 'cad', line: 11, who: { type: 'user', name: 'alice' } },
        { kind: 'exclude', scope: 'use', feature: 'cad', line: 16, who: { type: 'group', name: 'interns' } },
        { kind: 'max', count: 2, feature: 'cad', line: 20, each: 'user' },
        { kind: 'priority', level: 5, feature: '*', line: 25, who: { type: 'group', name: 'eng' } },
        { kind: 'include', scope: 'borrow', feature: 'cad', version: '29', line: 30, who: { type: 'host-group', name: 'lab' } },
      ],
      features: [{ feature: 'cad', line: 35, leaseTtlSecondsMax: 120, lingerSecondsMax: 60, borrowHoursMax: 72, borrowLowWater: 2, borrowSharePercentMax: 50 }],
    });
  });

  it('accepts a byte-order mark and CRLF line ends', () => {
    const r = parsePolicyToml(`\uFEFF${EXAMPLE.replace(/\n/g, '\r\n')}`);
    expect(r.ok).toBe(true);
  });

  it('reports TOML syntax errors at the line and column the parser found them', () => {
    expect(errors('[groups]\neng = ["alice",\n  bob]\n')[0]).toMatchObject({ line: 3, column: 3, code: 'POLICY_SYNTAX' });
  });

  it('reports a bad rule at the line of its header', () => {
    const text = '[[rules]]\nfeature = "cad"\nreserve = 1\nfor = "user:alice"\n\n[[rules]]\nfeature = "cad"\nmax = -1\nfor = "user:bob"\n';
    expect(errors(text)).toEqual([{ line: 6, column: 1, code: 'POLICY_SYNTAX', message: 'max is a whole number from 0 to 1000000' }]);
  });

  it('refuses a rule of no kind or two kinds, unknown keys, and whom it cannot read', () => {
    expect(errors('[[rules]]\nfeature = "cad"\n')[0]?.message).toMatch(/exactly one of/);
    expect(errors('[[rules]]\nfeature = "cad"\ninclude = "user:a"\nexclude = "user:b"\n')[0]?.message).toMatch(/exactly one of/);
    expect(errors('[[rules]]\nfeature = "cad"\ninclude = "user:a"\nfour = 4\n')[0]?.message).toBe('a include rule has no key "four"');
    expect(errors('[[rules]]\nfeature = "cad"\ninclude = "person:a"\n')[0]?.message).toMatch(/names whom as/);
    expect(errors('[[rules]]\nfeature = "cad"\nexclude = "ip:10.0.0.0/40"\n')[0]?.message).toMatch(/not an IP address/);
    expect(errors('colour = "blue"\n')[0]).toMatchObject({ line: 1, message: expect.stringMatching(/unknown key "colour"/) });
  });

  it('refuses a reservation for every feature, a version for "*", and ttl min above max', () => {
    expect(errors('[[rules]]\nfeature = "*"\nreserve = 1\nfor = "user:a"\n')[0]?.message).toBe('feature is a feature name');
    expect(errors('[[rules]]\nfeature = "*"\nversion = "2"\ninclude = "user:a"\n')[0]?.message).toBe('version needs a feature, not "*"');
    expect(errors('[[settings]]\nfeature = "cad"\nlease_ttl_seconds_min = 60\nlease_ttl_seconds_max = 30\n')[0]?.code).toBe('POLICY_INVALID');
  });

  it('refuses settings given twice for one feature and version', () => {
    expect(errors('[[settings]]\nfeature = "cad"\nlinger_seconds_max = 1\n[[settings]]\nfeature = "cad"\nlinger_seconds_max = 2\n')).toEqual([
      { line: 4, column: 1, code: 'POLICY_INVALID', message: 'settings for cad are already on line 1' },
    ]);
  });

  it('refuses a rule naming a group nobody defined', () => {
    expect(errors('[[rules]]\nfeature = "cad"\ninclude = "group:eng"\n')[0]).toMatchObject({ line: 1, code: 'POLICY_UNDEFINED_GROUP' });
  });

  it('an unknown key spelled with regular-expression characters is an error on its own line', () => {
    expect(errors('case_sensitive = false\n"[" = 1\n')).toEqual([
      { line: 2, column: 1, code: 'POLICY_SYNTAX', message: 'unknown key "[" (case_sensitive, groups, host_groups, rules, settings)' },
    ]);
    expect(errors("'a.(b' = 1\n")[0]).toMatchObject({ line: 1, code: 'POLICY_SYNTAX' });
  });

  it('never throws, whatever it is given', () => {
    for (const input of [undefined, 7, '[[[', '= =', 'rules = 5', 'rules = [1, 2]', 'groups = [1]', 'settings = {}', '[groups]\na = [1]', 'x'.repeat(300 * 1024)]) {
      expect(() => parsePolicyToml(input)).not.toThrow();
      expect(parsePolicyToml(input).ok).toBe(false);
    }
  });
});
