import { describe, expect, it } from 'vitest';
import { ipMatches, looksLikeIp, parseIpAddress, parseIpPattern } from './ip-pattern.ts';

function inRange(pattern: string, address: string): boolean {
  const p = parseIpPattern(pattern);
  const a = parseIpAddress(address);
  if (p === undefined || a === undefined) throw new Error(`bad test input ${pattern} ${address}`);
  return ipMatches(p, a);
}

describe('IP patterns', () => {
  it('a CIDR block holds exactly the addresses under its prefix', () => {
    expect(inRange('10.0.0.0/8', '10.255.1.2')).toBe(true);
    expect(inRange('10.0.0.0/8', '11.0.0.1')).toBe(false);
    expect(inRange('192.168.1.0/24', '192.168.1.255')).toBe(true);
    expect(inRange('192.168.1.0/24', '192.168.2.0')).toBe(false);
    expect(inRange('0.0.0.0/0', '8.8.8.8')).toBe(true);
    expect(inRange('2001:db8::/32', '2001:db8:1::7')).toBe(true);
    expect(inRange('2001:db8::/32', '2001:db9::1')).toBe(false);
  });

  it("FlexNet's per-octet wildcards match any value in the starred octets, a trailing star the rest", () => {
    expect(inRange('10.1.*.*', '10.1.200.3')).toBe(true);
    expect(inRange('10.*.3.*', '10.77.3.9')).toBe(true);
    expect(inRange('10.*.3.*', '10.77.4.9')).toBe(false);
    expect(inRange('10.1.*', '10.1.2.3')).toBe(true);
    expect(inRange('10.1.*', '10.2.2.3')).toBe(false);
  });

  it('an IPv4-mapped IPv6 address, as Node reports IPv4 clients of a dual-stack socket, counts as IPv4', () => {
    expect(inRange('10.0.0.0/8', '::ffff:10.1.2.3')).toBe(true);
    expect(inRange('10.1.2.3', '::ffff:10.1.2.3')).toBe(true);
  });

  it('a single address matches itself only, and families never mix', () => {
    expect(inRange('10.1.2.3', '10.1.2.3')).toBe(true);
    expect(inRange('10.1.2.3', '10.1.2.4')).toBe(false);
    expect(inRange('::1', '::1')).toBe(true);
    expect(inRange('::1', '0.0.0.1')).toBe(false);
  });

  it('malformed patterns and addresses are refused, never thrown', () => {
    for (const bad of ['', '10.0.0.0/33', '10.0.0.256', '10..0.1', '10.*.1', 'x.1.2.3', '1:2:3:4:5:6:7:8:9', '::1::2', '10.0.0.0/', 'a'.repeat(100), 5, null]) {
      expect(parseIpPattern(bad)).toBeUndefined();
    }
    expect(parseIpAddress('10.0.0.*')).toBeUndefined();
    expect(parseIpAddress('fe80::1%eth0')).toEqual(parseIpAddress('fe80::1'));
  });

  it('tells addresses and patterns from host names', () => {
    expect(looksLikeIp('10.1.*.*')).toBe(true);
    expect(looksLikeIp('fe80::1')).toBe(true);
    expect(looksLikeIp('10.0.0.0/8')).toBe(true);
    expect(looksLikeIp('ws-17')).toBe(false);
    expect(looksLikeIp('build.example.com')).toBe(false);
  });
});
