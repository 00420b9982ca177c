// IP address patterns for seat policy rules (include/exclude/max by IP range):
// an address ("10.1.2.3", "fe80::1"), a CIDR block ("10.0.0.0/8",
// "2001:db8::/32"), or FlexNet's per-octet wildcards ("10.1.*.*", "10.*.3.*",
// a trailing "10.1.*" meaning the rest). Pure and never throws: a policy is
// parsed from untrusted text, and the pool matches sessions' addresses
// (IPv4-mapped IPv6 as Node reports them, "::ffff:10.1.2.3", count as IPv4).

/** An IPv4 pattern: per octet, the value or -1 for any; or a CIDR block. */
export type IpPattern =
  | { readonly family: 4; readonly octets: readonly number[] }
  | { readonly family: 4; readonly base: number; readonly prefixBits: number }
  | { readonly family: 6; readonly base: bigint; readonly prefixBits: number };

/** An address as matched: IPv4 as a 32-bit unsigned integer, IPv6 as a 128-bit bigint. */
export type IpAddress = { readonly family: 4; readonly value: number } | { readonly family: 6; readonly value: bigint };

/** Longest pattern or address text read, characters. */
export const IP_TEXT_CHARS_MAX = 64;

function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v;
}

function parseIpv6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] as string;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (v4 === undefined) return undefined;
        out.push(Math.floor(v4 / 65536), v4 % 65536);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<number>(missing).fill(0), ...tail];
  let v = 0n;
  for (const g of all) v = (v << 16n) | BigInt(g);
  return v;
}

const MAPPED_PREFIX = 0xffffn << 32n;

/** The address `text` (IPv4, IPv6, IPv4-mapped IPv6 as IPv4), or undefined. Never throws. */
export function parseIpAddress(text: unknown): IpAddress | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > IP_TEXT_CHARS_MAX) return undefined;
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { family: 4, value: v4 };
  // A zone ("fe80::1%eth0") names an interface, not an address.
  const v6 = parseIpv6(text.split('%')[0] as string);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) return { family: 4, value: Number(v6 - MAPPED_PREFIX) };
  return { family: 6, value: v6 };
}

/** The pattern `text` (see the file comment), or undefined. Never throws. */
export function parseIpPattern(text: unknown): IpPattern | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > IP_TEXT_CHARS_MAX) return undefined;
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const bitsText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(bitsText)) return undefined;
    const bits = Number(bitsText);
    const addr = parseIpAddress(text.slice(0, slash));
    if (addr === undefined) return undefined;
    if (addr.family === 4) {
      if (bits > 32 || text.slice(0, slash).includes(':')) return undefined;
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      return { family: 4, base: (addr.value & mask) >>> 0, prefixBits: bits };
    }
    if (bits > 128) return undefined;
    const mask = bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(128 - bits);
    return { family: 6, base: addr.value & mask, prefixBits: bits };
  }
  if (text.includes('*')) {
    const parts = text.split('.');
    if (parts.length < 1 || parts.length > 4) return undefined;
    // "10.1.*" covers the rest: pad a trailing wildcard.
    if (parts.length < 4 && parts[parts.length - 1] !== '*') return undefined;
    while (parts.length < 4) parts.push('*');
    const octets: number[] = [];
    for (const p of parts) {
      if (p === '*') octets.push(-1);
      else if (/^\d{1,3}$/.test(p) && Number(p) <= 255) octets.push(Number(p));
      else return undefined;
    }
    return { family: 4, octets };
  }
  const addr = parseIpAddress(text);
  if (addr === undefined) return undefined;
  return addr.family === 4 ? { family: 4, base: addr.value, prefixBits: 32 } : { family: 6, base: addr.value, prefixBits: 128 };
}

/** True when `address` lies in `pattern`. */
export function ipMatches(pattern: IpPattern, address: IpAddress): boolean {
  if (pattern.family !== address.family) return false;
  if (pattern.family === 6) {
    const bits = BigInt(pattern.prefixBits);
    return (address.value as bigint) >> (128n - bits) === pattern.base >> (128n - bits);
  }
  const v = address.value as number;
  if ('octets' in pattern) {
    for (let i = 0; i < 4; i++) {
      const o = pattern.octets[i] as number;
      if (o >= 0 && o !== Math.floor(v / 256 ** (3 - i)) % 256) return false;
    }
    return true;
  }
  if (pattern.prefixBits === 0) return true;
  const mask = (0xffffffff << (32 - pattern.prefixBits)) >>> 0;
  return ((v & mask) >>> 0) === pattern.base;
}

/** True when `text` looks like an address or pattern rather than a host name (digits, dots, stars; or a colon or slash). */
export function looksLikeIp(text: string): boolean {
  return /^[\d.*]+$/.test(text) && text.includes('.') ? true : text.includes(':') || text.includes('/');
}
