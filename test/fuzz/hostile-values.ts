// Hostile inputs for the fuzz targets, as an attacker would send them: any
// JSON value, nesting deep enough to overflow a recursive walker, numbers
// no safe integer holds, random bytes, and valid documents with one field
// changed. Values that JSON.stringify cannot write (a 20,000-level nest
// overflows it) travel as text fragments and are spliced into a document's
// text by withOneFieldMutated().
import fc from 'fast-check';

/** Levels of the deepest nesting generated: past V8's stack for a recursive walker (~10,000 frames). */
export const NESTING_LEVELS_MAX = 20_000;
/** Bytes of the longest random byte string generated. */
export const RANDOM_BYTES_MAX = 4096;

/** JSON number texts that no safe integer reads back: 1e400 parses to Infinity, 9007199254740993 to …992. */
export const HUGE_NUMBER_TEXTS: readonly string[] = [
  '1e400',
  '-1e400',
  '1e-400',
  '9007199254740993',
  '-9007199254740993',
  '1'.repeat(400),
  '-0',
  '0.1',
  '1.7976931348623157e308',
  '5e-324',
  '4294967296',
  '-1',
  '2147483648',
  '1e21',
];

/** Strings that trip careless code: prototype names, control characters, NUL, lone surrogates, very long. */
export const TRICKY_STRINGS: readonly string[] = [
  '',
  ' ',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '\u0000',
  '\n\r\t',
  '\ud800',
  '\udfff',
  '%',
  '%E0%A4%A',
  '../../etc/passwd',
  'null',
  'NaN',
  'Infinity',
  '💺'.repeat(40),
  'a'.repeat(70_000),
];

/** Any JSON value fast-check makes, plus huge numbers and tricky strings, nested a few levels. */
export const jsonValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(...HUGE_NUMBER_TEXTS).map((t) => JSON.parse(t) as unknown),
  fc.constantFrom(...TRICKY_STRINGS),
  fc.constantFrom(null, true, false, 0, [], {}),
);

/** A kind of deep nesting: arrays, objects, or the two alternating. */
export type NestingKind = 'array' | 'object' | 'mixed';

/** JSON text of `leafText` nested `levels` deep; built by concatenation (JSON.stringify would overflow). */
export function nestedJsonText(levels: number, kind: NestingKind, leafText = '0'): string {
  let open = '';
  let close = '';
  for (let i = 0; i < levels; i++) {
    const asArray = kind === 'array' || (kind === 'mixed' && i % 2 === 0);
    open += asArray ? '[' : '{"a":';
    close = (asArray ? ']' : '}') + close;
  }
  return open + leafText + close;
}

/** Characters each level of a nest of `kind` adds: `[` `]`, or `{"a":` `}`, or half of each. */
const NEST_CHARS_PER_LEVEL: Readonly<Record<NestingKind, number>> = { array: 2, object: 6, mixed: 4 };

/**
 * Text of a JSON value nested from `levelsMin` to `levelsMax` levels deep,
 * and no longer than `charsMax` (a parser with a size limit needs a nest
 * that fits it: arrays then nest three times deeper than objects).
 */
export function deepJsonTextOf(levelsMin: number, levelsMax: number, charsMax = Number.POSITIVE_INFINITY): fc.Arbitrary<string> {
  return fc.constantFrom<NestingKind>('array', 'object', 'mixed').chain((kind) => {
    const max = Math.max(levelsMin, Math.min(levelsMax, Math.floor((charsMax - 1) / NEST_CHARS_PER_LEVEL[kind])));
    return fc.oneof(fc.integer({ min: levelsMin, max }), fc.constant(max)).map((levels) => nestedJsonText(levels, kind));
  });
}

/** Text of a JSON value nested 1,000 to NESTING_LEVELS_MAX levels deep. */
export const deepJsonText: fc.Arbitrary<string> = deepJsonTextOf(1000, NESTING_LEVELS_MAX);

/** Random bytes, up to RANDOM_BYTES_MAX. */
export const randomBytes: fc.Arbitrary<Uint8Array> = fc.uint8Array({ maxLength: RANDOM_BYTES_MAX });

/** Random bytes read as text the way a server reads a body (UTF-8, bad sequences replaced) or as Latin-1. */
export const randomText: fc.Arbitrary<string> = fc.oneof(
  randomBytes.map((b) => Buffer.from(b).toString('utf8')),
  randomBytes.map((b) => Buffer.from(b).toString('latin1')),
  fc.string({ unit: 'binary', maxLength: 300 }),
);

/** A JSON text fragment of a hostile value: any value, a deep nest, a huge number. */
export const hostileJsonFragment: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: jsonValue.map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: deepJsonText },
  { weight: 2, arbitrary: fc.constantFrom(...HUGE_NUMBER_TEXTS) },
);

/** A hostile text where JSON is expected: a hostile value, a document truncated or not JSON at all, random bytes. */
export const hostileJsonText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: hostileJsonFragment },
  { weight: 2, arbitrary: randomText },
  { weight: 1, arbitrary: fc.constantFrom('', '{', '[', '"', '{"a":', '{}}', 'nul', '\ufeff{}', '{"a":1,"a":2}') },
);

/** A path to one field of a document: keys of objects and indexes of arrays. */
type FieldPath = readonly (string | number)[];

/** Every path to a field of `doc` (nested objects and arrays included), depth first. */
export function fieldPaths(doc: unknown, prefix: FieldPath = []): FieldPath[] {
  if (typeof doc !== 'object' || doc === null) return [];
  const out: FieldPath[] = [];
  const entries: [string | number, unknown][] = Array.isArray(doc) ? doc.map((v, i) => [i, v]) : Object.entries(doc);
  for (const [key, value] of entries) {
    const path = [...prefix, key];
    out.push(path, ...fieldPaths(value, path));
  }
  return out;
}

/** How to change one field. */
export type Mutation =
  | { readonly kind: 'replace'; readonly path: FieldPath; readonly fragment: string }
  | { readonly kind: 'delete'; readonly path: FieldPath }
  | { readonly kind: 'add'; readonly path: FieldPath; readonly key: string; readonly fragment: string };

/** Marker a fragment replaces in the document's text (a string no generator makes). */
export const RAW_MARKER = '@@FLOE-FUZZ-RAW@@';

/** Names of added fields: prototype names, control characters, lone surrogates, any short string. */
export const fieldName: fc.Arbitrary<string> = fc.oneof(fc.constantFrom(...TRICKY_STRINGS.filter((s) => s.length < 100)), fc.string({ maxLength: 12 }));

/** One mutation of `doc`: a field replaced by a hostile fragment, deleted, or an unknown field (named by `names`) added beside it. */
export function mutation(doc: object, fragments: fc.Arbitrary<string> = hostileJsonFragment, names: fc.Arbitrary<string> = fieldName): fc.Arbitrary<Mutation> {
  const paths = fieldPaths(doc);
  const containers: FieldPath[] = [[], ...paths.filter((p) => isPlainObject(getAt(doc, p)))];
  const replaceOrDelete =
    paths.length === 0
      ? []
      : [
          fc.record({ kind: fc.constant('replace' as const), path: fc.constantFrom(...paths), fragment: fragments }),
          fc.record({ kind: fc.constant('delete' as const), path: fc.constantFrom(...paths) }),
        ];
  return fc.oneof(
    ...replaceOrDelete,
    fc.record({
      kind: fc.constant('add' as const),
      path: fc.constantFrom(...containers),
      key: names,
      fragment: fragments,
    }),
  );
}

/**
 * `doc` with `m` applied, as JSON text (`stringify` defaults to JSON.stringify;
 * pass another writer, e.g. TOML's, that writes the marker string as a quoted string).
 */
export function applyMutation(doc: object, m: Mutation, stringify: (value: unknown) => string = JSON.stringify, quote = JSON.stringify): string {
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  if (m.kind === 'delete') {
    const parent = getAt(copy, m.path.slice(0, -1)) as Record<string | number, unknown> | unknown[];
    const key = m.path[m.path.length - 1] as string | number;
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
    return stringify(copy);
  }
  if (m.kind === 'replace') {
    const parent = getAt(copy, m.path.slice(0, -1)) as Record<string | number, unknown>;
    parent[m.path[m.path.length - 1] as string | number] = RAW_MARKER;
  } else {
    const target = getAt(copy, m.path) as Record<string, unknown>;
    // defineProperty: a key "__proto__" becomes an own field, as JSON.parse makes it.
    Object.defineProperty(target, m.key, { value: RAW_MARKER, enumerable: true, configurable: true, writable: true });
  }
  return stringify(copy).replace(quote(RAW_MARKER), () => m.fragment);
}

/** `valid` with one field mutated, as text: the arbitrary the "valid input, one field changed" cases use. */
export function withOneFieldMutated(valid: object, fragments?: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return mutation(valid, fragments).map((m) => applyMutation(valid, m));
}

function getAt(doc: unknown, path: FieldPath): unknown {
  let at: unknown = doc;
  for (const key of path) at = (at as Record<string | number, unknown>)[key];
  return at;
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when `code` looks like one of Floe's error codes: UPPER_CASE words. */
export function isErrorCode(code: unknown): boolean {
  return typeof code === 'string' && /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/.test(code);
}
