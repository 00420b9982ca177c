import { describe, expect, it } from 'vitest';
import { parseOptionsFile } from './options-file.ts';
import type { Policy, PolicyDiagnostic } from './policy.ts';

function ok(text: string): { policy: Policy; warnings: readonly PolicyDiagnostic[] } {
  const r = parseOptionsFile(text);
  if (!r.ok) throw new Error(`expected a policy, got ${JSON.stringify(r.errors)}`);
  return r;
}
function errors(text: unknown): readonly PolicyDiagnostic[] {
  const r = parseOptionsFile(text);
  if (r.ok) throw new Error('expected errors');
  return r.errors;
}

describe('FlexNet options files', () => {
  it('read every seat keyword into the rules and settings docs/policy.md describes', () => {
    const { policy } = ok(
      [
        'GROUP eng alice bob',
        'HOST_GROUP lab ws-1 10.1.*.*',
        'INCLUDE cad GROUP eng',
        'EXCLUDE cad USER mallory',
        'INCLUDE_BORROW cad USER alice',
        'EXCLUDE_BORROW cad HOST_GROUP lab',
        'INCLUDEALL USER root',
        'EXCLUDEALL INTERNET 192.168.7.*',
        'RESERVE 2 cad:VERSION=29 USER alice',
        'MAX 3 cad GROUP eng',
        'MAX 1 cam USER ALL_USERS',
        'MAX 4 cam GROUP ALL_GROUPS',
        'MAX 2 cad PROJECT stats',
        'TIMEOUT cad 3600',
        'TIMEOUTALL 7200',
        'LINGER cad 30',
        'MAX_BORROW_HOURS cad 72',
        'BORROW_LOWWATER cad 2',
      ].join('\n'),
    );
    expect(policy.groups).toEqual([['eng', ['alice', 'bob']]]);
    expect(policy.hostGroups).toEqual([['lab', ['ws-1', '10.1.*.*']]]);
    expect(policy.rules).toEqual([
      { kind: 'include', scope: 'use', feature: 'cad', line: 3, who: { type: 'group', name: 'eng' } },
      { kind: 'exclude', scope: 'use', feature: 'cad', line: 4, who: { type: 'user', name: 'mallory' } },
      { kind: 'include', scope: 'borrow', feature: 'cad', line: 5, who: { type: 'user', name: 'alice' } },
      { kind: 'exclude', scope: 'borrow', feature: 'cad', line: 6, who: { type: 'host-group', name: 'lab' } },
      { kind: 'include', scope: 'use', feature: '*', line: 7, who: { type: 'user', name: 'root' } },
      { kind: 'exclude', scope: 'use', feature: '*', line: 8, who: { type: 'ip', name: '192.168.7.*' } },
      { kind: 'reserve', count: 2, feature: 'cad', version: '29', line: 9, who: { type: 'user', name: 'alice' } },
      { kind: 'max', count: 3, feature: 'cad', line: 10, who: { type: 'group', name: 'eng' } },
      { kind: 'max', count: 1, feature: 'cam', line: 11, each: 'user' },
      { kind: 'max', count: 4, feature: 'cam', line: 12, each: 'group' },
      { kind: 'max', count: 2, feature: 'cad', line: 13, who: { type: 'app', name: 'stats' } },
    ]);
    expect(policy.features).toEqual([
      { feature: 'cad', line: 14, leaseTtlSecondsMax: 3600, lingerSecondsMax: 30, borrowHoursMax: 72, borrowLowWater: 2 },
      { feature: '*', line: 15, leaseTtlSecondsMax: 7200 },
    ]);
    expect(policy.caseSensitive).toBe(false);
  });

  it('accept a byte-order mark, CRLF and CR line ends, comments, blank lines and continuation lines', () => {
    const text = '\uFEFF# site options\r\nGROUP eng alice \\\r\n   bob\r\n\r\n  # indented comment\rRESERVE 1 cad GROUP eng\r\n';
    const { policy } = ok(text);
    expect(policy.groups).toEqual([['eng', ['alice', 'bob']]]);
    expect(policy.rules).toEqual([{ kind: 'reserve', count: 1, feature: 'cad', line: 6, who: { type: 'group', name: 'eng' } }]);
  });

  it('read quoted names holding spaces', () => {
    const { policy } = ok('GROUP "cad users" "Jane Doe" bob\nINCLUDE cad GROUP "cad users"');
    expect(policy.groups).toEqual([['cad users', ['Jane Doe', 'bob']]]);
  });

  it('add up repeated GROUP lines of one name, as FlexNet does', () => {
    expect(ok('GROUP eng alice\nGROUP eng bob').policy.groups).toEqual([['eng', ['alice', 'bob']]]);
  });

  it('read a HOST that is an address or wildcard as an IP range', () => {
    expect(ok('EXCLUDE cad HOST 10.2.*.*').policy.rules[0]).toMatchObject({ who: { type: 'ip', name: '10.2.*.*' } });
  });

  it('make names case-insensitive unless GROUPCASEINSENSITIVE OFF', () => {
    expect(ok('GROUP eng alice').policy.caseSensitive).toBe(false);
    expect(ok('GROUPCASEINSENSITIVE ON').policy.caseSensitive).toBe(false);
    expect(ok('GROUPCASEINSENSITIVE OFF').policy.caseSensitive).toBe(true);
  });

  it('keep the last of repeated settings, as FlexNet does, and warn naming both lines', () => {
    const r = ok('TIMEOUT cad 600\nTIMEOUT cad 900');
    expect(r.policy.features).toEqual([{ feature: 'cad', line: 1, leaseTtlSecondsMax: 900 }]);
    expect(r.warnings).toEqual([{ line: 2, column: 1, code: 'POLICY_OVERRIDDEN', message: 'this TIMEOUT replaces the one on line 1' }]);
  });

  it('ignore logging and daemon keywords with a warning at their line', () => {
    const r = ok('NOLOG QUEUED\nREPORTLOG +report.rl\nDEBUGLOG +debug.log\nMAX 1 cad USER bob');
    expect(r.warnings.map((w) => [w.line, w.code])).toEqual([
      [1, 'POLICY_IGNORED'],
      [2, 'POLICY_IGNORED'],
      [3, 'POLICY_IGNORED'],
    ]);
    expect(r.policy.rules).toHaveLength(1);
  });

  it('point an unknown keyword at its line and column', () => {
    expect(errors('GROUP eng alice\n  RESRVE 1 cad USER alice')).toEqual([
      { line: 2, column: 3, code: 'POLICY_UNKNOWN_KEYWORD', message: '"RESRVE" is not an options-file keyword Floe knows' },
    ]);
  });

  it('point a bad value at its own column, on the physical line of a continuation', () => {
    const e = errors('RESERVE 1 cad \\\n  USER \\\n  "alice\nMAX x cad USER bob');
    expect(e[0]).toMatchObject({ line: 3, column: 3, code: 'POLICY_SYNTAX' });
    const m = errors('MAX two cad USER bob');
    expect(m).toEqual([{ line: 1, column: 5, code: 'POLICY_SYNTAX', message: 'the number of seats must be a whole number from 0 to 1000000, not "two"' }]);
  });

  it('refuse rather than drop what Floe cannot honour: DISPLAY, feature modifiers other than VERSION', () => {
    expect(errors('EXCLUDE cad DISPLAY /dev/tty1')[0]).toMatchObject({ line: 1, column: 13, code: 'POLICY_UNSUPPORTED' });
    expect(errors('INCLUDE cad:HOSTID=1234 USER bob')[0]).toMatchObject({ line: 1, column: 13, code: 'POLICY_UNSUPPORTED' });
  });

  it('refuse a rule naming a group nobody defined', () => {
    expect(errors('GROUP eng alice\nINCLUDE cad GROUP Engineering')).toEqual([
      { line: 2, column: 1, code: 'POLICY_UNDEFINED_GROUP', message: 'group Engineering is not defined (a GROUP line or [groups] entry must define it)' },
    ]);
  });

  it('find a group named in another case when names are case-insensitive', () => {
    expect(ok('GROUP Eng alice\nINCLUDE cad GROUP eng').policy.rules).toHaveLength(1);
    expect(errors('GROUPCASEINSENSITIVE OFF\nGROUP Eng alice\nINCLUDE cad GROUP eng')[0]?.code).toBe('POLICY_UNDEFINED_GROUP');
  });

  it('refuse wrong arities, bad types and bad IP patterns with their column', () => {
    expect(errors('INCLUDE cad USER')[0]).toMatchObject({ line: 1, code: 'POLICY_SYNTAX' });
    expect(errors('INCLUDE cad USER bob extra')[0]).toMatchObject({ line: 1, column: 22, code: 'POLICY_SYNTAX' });
    expect(errors('INCLUDE cad PERSON bob')[0]).toMatchObject({ column: 13, code: 'POLICY_SYNTAX' });
    expect(errors('EXCLUDE cad INTERNET 10.1.300.*')[0]).toMatchObject({ column: 22, code: 'POLICY_SYNTAX' });
    expect(errors('RESERVE 0 cad USER bob')[0]).toMatchObject({ column: 9, code: 'POLICY_SYNTAX' });
    expect(errors('INCLUDE USER ALL_USERS')[0]?.code).toBe('POLICY_SYNTAX');
  });

  it('never throws, whatever it is given', () => {
    for (const input of [undefined, null, 42, {}, '"', '\\', '\\\n\\\n', '\u0000GROUP', 'MAX 1 cad USER ALL_USERS extra', 'GROUP', 'x'.repeat(70_000)]) {
      expect(() => parseOptionsFile(input)).not.toThrow();
    }
    expect(errors('a'.repeat(300 * 1024))[0]?.code).toBe('POLICY_TOO_LARGE');
  });
});
