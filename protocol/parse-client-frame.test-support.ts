// The client-frame parser as a fuzz target: an arbitrary of hostile frames
// (arbitrary JSON values, deep nesting, huge numbers, random bytes, valid
// requests with one field mutated) and the property every frame must keep.
// parse-client-frame.test.ts runs it with a bounded count in `npm test`; a
// longer fuzz run can drive the same two exports.
import fc from 'fast-check';
import { FRAME_NESTING_MAX, parseClientFrame } from './parse-client-frame.ts';
import { clientRequestSchema, clientRequestTypes, FRAME_BYTES_MAX } from './wire.ts';

/** One frame as the server receives it. */
export interface ClientFrameInput {
  readonly data: Uint8Array | string;
  readonly isBinary: boolean;
  /** Set when the frame is a valid request, untouched: the parser must accept it as it is. */
  readonly valid?: Record<string, unknown>;
}

const token = (min: number, max: number) => fc.stringMatching(new RegExp(`^[A-Za-z0-9_-]{${min},${max}}$`));
const frameId = fc.oneof(fc.nat(1000), fc.constant(Number.MAX_SAFE_INTEGER));

/** A valid request of every type, as an object. */
export const validRequestArbitrary: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record(
    {
      id: frameId,
      type: fc.constant('hello'),
      protocol: fc.constant(1),
      clientId: token(8, 64),
      user: fc.string({ minLength: 1, maxLength: 128 }),
      host: fc.string({ minLength: 1, maxLength: 128 }),
      app: fc.string({ minLength: 1, maxLength: 128 }),
      sessionId: fc.string({ minLength: 1, maxLength: 64 }),
    },
    { requiredKeys: ['id', 'type', 'protocol', 'clientId', 'user', 'host', 'app'] },
  ),
  fc.record(
    {
      id: frameId,
      type: fc.constant('checkout'),
      requestId: token(8, 64),
      feature: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
      version: fc.stringMatching(/^\d{1,9}(\.\d{1,9}){0,3}$/).filter((v) => v.length <= 32),
      count: fc.integer({ min: 1, max: 1000 }),
      wait: fc.boolean(),
      waitMs: fc.integer({ min: 0, max: 24 * 3600 * 1000 }),
    },
    { requiredKeys: ['id', 'type', 'requestId', 'feature'] },
  ),
  fc.record({ id: frameId, type: fc.constant('checkin'), requestId: token(8, 64), leaseId: fc.string({ minLength: 1, maxLength: 64 }) }),
  fc.record({ id: frameId, type: fc.constant('cancel'), requestId: token(8, 64) }),
  fc.record({ id: frameId, type: fc.constant('heartbeat') }),
  fc.record({ id: frameId, type: fc.constant('status') }),
);

/** Numbers JSON can spell that no field accepts (or only some do). */
const hugeNumberText = fc.constantFrom('1e999', '-1e999', '1e308', '-0', '0.5', '9007199254740993', '123456789012345678901234567890', '1e-999', '-1');

/** `depth` nested arrays or objects, balanced or not, alone or as a field of a request. */
const deepText = fc
  .tuple(fc.integer({ min: FRAME_NESTING_MAX - 1, max: 20_000 }), fc.constantFrom('[', '{"a":'), fc.boolean(), fc.boolean())
  .map(([depth, open, balanced, asField]) => {
    const close = open === '[' ? ']' : '}';
    const nested = open.repeat(depth) + (open === '[' ? '' : '1') + (balanced ? close.repeat(depth) : '');
    return asField ? `{"id":1,"type":${nested}}` : nested;
  });

/** A valid request with one field replaced, removed, or one field added. */
const mutatedRequest = fc
  .tuple(validRequestArbitrary, fc.nat(), fc.oneof(fc.jsonValue({ maxDepth: 3 }), hugeNumberText.map((t) => ({ __rawNumber: t }))), fc.constantFrom('replace', 'remove', 'add'))
  .map(([request, pick, value, how]) => {
    const keys = Object.keys(request);
    const key = how === 'add' ? `extra${pick % 3}` : (keys[pick % keys.length] as string);
    const fields: Record<string, unknown> = { ...request };
    if (how === 'remove') delete fields[key];
    else fields[key] = value;
    // A huge number is spliced in as text: JSON.stringify would write Infinity as null.
    return JSON.stringify(fields).replace(/\{"__rawNumber":"([^"]*)"\}/, '$1');
  });

const text = (t: fc.Arbitrary<string>): fc.Arbitrary<ClientFrameInput> =>
  fc.tuple(t, fc.boolean()).map(([s, asBytes]) => ({ data: asBytes ? new TextEncoder().encode(s) : s, isBinary: false }));

/** Every kind of frame a hostile client may send. */
export const clientFrameArbitrary: fc.Arbitrary<ClientFrameInput> = fc.oneof(
  text(fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null')),
  text(fc.constantFrom('null', 'true', '0', '""', '[]', '{}', '{"id":1}', '{"type":"hello"}', '{"__proto__":{"type":"status"},"id":1}', '{"id":1,"type":"status","constructor":{}}')),
  text(deepText),
  text(hugeNumberText.map((n) => `{"id":${n},"type":"heartbeat"}`)),
  text(mutatedRequest),
  text(fc.string({ maxLength: 200 })),
  fc.record({ data: fc.uint8Array({ maxLength: FRAME_BYTES_MAX + 64 }), isBinary: fc.boolean() }),
  validRequestArbitrary.map((valid) => ({ data: JSON.stringify(valid), isBinary: false, valid })),
);

/**
 * What every frame must give: a result, never an exception; an accepted
 * request satisfies its schema; a refusal is BAD_REQUEST with a short
 * sentence and a usable `id`; a valid request is accepted unchanged.
 * Throws (an Error naming the frame) on a violation.
 */
export function checkClientFrame(input: ClientFrameInput): void {
  const head = () => (typeof input.data === 'string' ? input.data : new TextDecoder().decode(input.data)).slice(0, 120);
  let result: ReturnType<typeof parseClientFrame>;
  try {
    result = parseClientFrame(input.data, input.isBinary);
  } catch (error) {
    throw new Error(`parseClientFrame threw ${String(error)} on ${JSON.stringify(head())}`);
  }
  if (result.ok) {
    if (!clientRequestTypes.includes(result.request.type)) throw new Error(`accepted an unknown type on ${JSON.stringify(head())}`);
    if (!clientRequestSchema.safeParse(result.request).success) throw new Error(`accepted an invalid request on ${JSON.stringify(head())}`);
  } else {
    if (result.code !== 'BAD_REQUEST') throw new Error(`refused with ${result.code}`);
    if (result.message.length === 0 || result.message.length > 200) throw new Error(`message of ${result.message.length} characters`);
    if (!Number.isSafeInteger(result.id) || result.id < 0) throw new Error(`reply id ${result.id}`);
  }
  if (input.valid !== undefined) {
    if (!result.ok) throw new Error(`refused a valid request (${result.message}) on ${JSON.stringify(head())}`);
    const expected = clientRequestSchema.parse(input.valid);
    if (JSON.stringify(result.request) !== JSON.stringify(expected)) throw new Error(`changed a valid request on ${JSON.stringify(head())}`);
  }
}
