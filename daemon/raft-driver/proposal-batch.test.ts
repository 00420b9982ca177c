import { describe, expect, it } from 'vitest';
import { BATCH_MARKER, decodeBatch, encodeBatch } from './proposal-batch.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('proposal batches', () => {
  it('round-trips several proposals, empty ones included, in order', () => {
    const proposals = [enc('{"a":1}'), new Uint8Array(0), enc('F tag\n{}'), enc('x'.repeat(70_000))];
    expect(decodeBatch(encodeBatch(proposals)).map(text)).toEqual(proposals.map(text));
  });

  it('leaves a single proposal as it is, unframed, and reads it back', () => {
    const one = enc('{"type":"expire","at":1}');
    expect(encodeBatch([one])).toBe(one);
    expect(decodeBatch(one)).toEqual([one]);
  });

  it('wraps a single proposal that starts with the batch marker, so it is never misread', () => {
    const tricky = Uint8Array.of(BATCH_MARKER, 0, 0, 0, 9);
    const data = encodeBatch([tricky]);
    expect(data).not.toBe(tricky);
    expect(decodeBatch(data)).toEqual([tricky]);
  });

  it('refuses a batch cut short or with trailing bytes', () => {
    const data = encodeBatch([enc('one'), enc('two')]);
    expect(() => decodeBatch(data.subarray(0, data.length - 1))).toThrow(/cut short/);
    expect(() => decodeBatch(Uint8Array.of(...data, 0))).toThrow(/trailing/);
  });
});
