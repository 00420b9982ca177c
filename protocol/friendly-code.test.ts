import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CROCKFORD_ALPHABET, formatFriendlyCode, parseFriendlyCode } from './friendly-code.ts';

const dataArb = fc.string({ unit: fc.constantFrom(...CROCKFORD_ALPHABET), minLength: 19, maxLength: 19 });

describe('friendly codes', () => {
  it('formatFriendlyCode() groups by five and parse reads it back unchanged', () => {
    const code = formatFriendlyCode('0123456789ABCDEFGHJ');
    expect(code).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);
    expect(parseFriendlyCode(code, 20, 'code')).toEqual({ ok: true, code });
  });

  it('parse ignores case, spaces and dashes, and reads I and L as 1, O as 0', () => {
    const code = formatFriendlyCode('10101ABCDEFGHJKMNPQ');
    const sloppy = code.toLowerCase().replaceAll('-', ' ').replaceAll('1', 'l').replaceAll('0', 'O');
    expect(parseFriendlyCode(sloppy, 20, 'code')).toEqual({ ok: true, code });
  });

  it('parse answers TYPO for every single mistyped character', () => {
    fc.assert(
      fc.property(dataArb, fc.nat(19), fc.constantFrom(...CROCKFORD_ALPHABET), (data, at, ch) => {
        const symbols = formatFriendlyCode(data).replaceAll('-', '');
        fc.pre(symbols[at] !== ch);
        const typo = symbols.slice(0, at) + ch + symbols.slice(at + 1);
        const parsed = parseFriendlyCode(typo, 20, 'code');
        expect(parsed.ok).toBe(false);
        expect(parsed.ok ? '' : parsed.problem).toBe('TYPO');
      }),
      { numRuns: 3000 },
    );
  });

  it('parse answers TYPO for every swap of two different characters, adjacent or not', () => {
    fc.assert(
      fc.property(dataArb, fc.nat(19), fc.nat(19), (data, i, j) => {
        const symbols = [...formatFriendlyCode(data).replaceAll('-', '')];
        fc.pre(symbols[i] !== symbols[j]);
        [symbols[i], symbols[j]] = [symbols[j]!, symbols[i]!];
        const parsed = parseFriendlyCode(symbols.join(''), 20, 'code');
        expect(parsed.ok ? 'accepted' : parsed.problem).toBe('TYPO');
      }),
      { numRuns: 3000 },
    );
  });

  it('parse answers MALFORMED for U, punctuation, non-ASCII and a wrong length', () => {
    const code = formatFriendlyCode('0123456789ABCDEFGHJ');
    for (const bad of [code.replace('A', 'U'), code.replace('A', '!'), code.replace('A', 'ı'), code.slice(0, -1), `${code}0`, '', 'x'.repeat(300)]) {
      const parsed = parseFriendlyCode(bad, 20, 'code');
      expect(parsed.ok ? 'accepted' : parsed.problem).toBe('MALFORMED');
    }
    expect(parseFriendlyCode(42, 20, 'code').ok).toBe(false);
  });

  it('parse never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.anything()), (input) => {
        parseFriendlyCode(input, 20, 'code');
      }),
      { numRuns: 3000 },
    );
  });
});
