import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FRAME_NESTING_MAX, leadingFrameId, nestingDepth, parseClientFrame } from './parse-client-frame.ts';
import { checkClientFrame, clientFrameArbitrary } from './parse-client-frame.test-support.ts';
import { FRAME_BYTES_MAX } from './wire.ts';

/** Runs of the property in `npm test`; `npm run fuzz` runs the same target for longer. */
const PROPERTY_RUNS = Number(process.env['CLIENT_FRAME_PROPERTY_RUNS'] ?? 3_000);

describe('finding 1 (issue 11): untrusted client frames never throw', () => {
  it('the null frame is refused as BAD_REQUEST, not a crash', () => {
    expect(parseClientFrame(Buffer.from('null'), false)).toMatchObject({ ok: false, id: 0, code: 'BAD_REQUEST' });
  });

  it('an 8,000-level nested type (16 KB) is refused before anything recursive reads it, answered to its id', () => {
    const frame = `{"id":7,"type":${'['.repeat(8000)}${']'.repeat(8000)}}`;
    expect(frame.length).toBeLessThanOrEqual(FRAME_BYTES_MAX);
    const r = parseClientFrame(Buffer.from(frame), false);
    expect(r).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    expect(r.ok ? '' : r.message).toContain(`deeper than ${FRAME_NESTING_MAX}`);
  });

  it('frames that are not one JSON object of a known type say what they are, briefly', () => {
    const cases: [string, string][] = [
      ['[]', 'an array'],
      ['"x"', 'not a JSON object'],
      ['{"id":3,"type":null}', 'unknown request type null'],
      [`{"id":3,"type":"${'t'.repeat(5000)}"}`, 'unknown request type "tttt'],
      ['{"id":1e999,"type":"status"}', 'invalid status'],
      ['{not json', 'not JSON'],
    ];
    for (const [frame, says] of cases) {
      const r = parseClientFrame(frame, false);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.message).toContain(says);
        expect(r.message.length).toBeLessThanOrEqual(200);
      }
    }
    expect(parseClientFrame('{"id":3,"type":"teleport"}', false)).toMatchObject({ ok: false, id: 3 });
  });

  it('invalid UTF-8, binary frames and frames over FRAME_BYTES_MAX are refused', () => {
    expect(parseClientFrame(new Uint8Array([0x7b, 0xff, 0x7d]), false)).toMatchObject({ ok: false, message: 'the frame is not UTF-8 text' });
    expect(parseClientFrame(Buffer.from('{"id":1,"type":"status"}'), true)).toMatchObject({ ok: false, message: 'frames are JSON text, not binary' });
    expect(parseClientFrame(`{"id":1,"type":"status","p":"${'é'.repeat(FRAME_BYTES_MAX / 2)}"}`, false)).toMatchObject({ ok: false });
  });

  it('a valid request is accepted with its defaults filled in', () => {
    expect(parseClientFrame('{"id":2,"type":"checkout","requestId":"req-00001","feature":"demo"}', false)).toEqual({
      ok: true,
      request: { id: 2, type: 'checkout', requestId: 'req-00001', feature: 'demo', count: 1, wait: false },
    });
  });

  it('nestingDepth ignores brackets inside strings, escaped quotes included', () => {
    expect(nestingDepth('{"a":"[[[[\\"[[[","b":[[1]]}')).toBe(3);
  });

  it(`${PROPERTY_RUNS.toLocaleString('en')} hostile frames (arbitrary JSON, deep nesting, huge numbers, random bytes, one field mutated) each give a result, never an exception`, () => {
    fc.assert(fc.property(clientFrameArbitrary, checkClientFrame), { numRuns: PROPERTY_RUNS });
  });
});

describe('leadingFrameId', () => {
  it('reads the id of a frame that starts with it, and 0 otherwise', () => {
    expect(leadingFrameId('{"id":42,"type":"status"}')).toBe(42);
    expect(leadingFrameId(Buffer.from(' { "id" : 7 }'))).toBe(7);
    expect(leadingFrameId('{"type":"status","id":42}')).toBe(0);
    expect(leadingFrameId('{"id":4.5}')).toBe(0);
    expect(leadingFrameId('{"id":99999999999999999}')).toBe(0);
    expect(leadingFrameId('{"id":-1}')).toBe(0);
    expect(leadingFrameId('')).toBe(0);
  });
});
