// The one parser of the bytes a client sends: a WebSocket frame in, a
// validated request or a BAD_REQUEST out, never an exception. Every frame
// comes from the open network before any hello, so it is checked field by
// field (as base64url.ts and the peer codec's decodeFrame do): size, strict
// UTF-8, and nesting depth before JSON.parse or anything recursive touches
// it; then the envelope (an object, its `id`, a known `type`); only then the
// request's own zod schema. No message ever echoes more than a short,
// escaped slice of what the client sent.
import { clientRequestTypes, FRAME_BYTES_MAX, requestSchemaOf, type ClientRequest } from './wire.ts';

/**
 * Deepest nesting of arrays and objects a client frame may have. Every
 * request of protocol 1 is one flat object (depth 1); the margin is for
 * later versions. Far below what JSON.stringify or a validator would need to
 * overflow the stack.
 */
export const FRAME_NESTING_MAX = 8;

/** Characters of a client's value quoted back in an error message, at most. */
const QUOTED_CHARS_MAX = 40;
/** Characters of a whole error message, at most. */
const MESSAGE_CHARS_MAX = 200;

/** What parseClientFrame makes of one frame. */
export type ClientFrameParse =
  | { readonly ok: true; readonly request: ClientRequest }
  | {
      readonly ok: false;
      /** The frame's `id` when it had a valid one, else 0: the reply's `id`. */
      readonly id: number;
      readonly code: 'BAD_REQUEST';
      /** Human sentence, at most MESSAGE_CHARS_MAX characters. */
      readonly message: string;
    };

const utf8 = new TextDecoder('utf-8', { fatal: true });
const knownTypes: ReadonlySet<string> = new Set(clientRequestTypes);

/**
 * Parses one client frame (`data`: its payload; `isBinary`: its opcode).
 * Never throws, whatever the bytes: every refusal is BAD_REQUEST with a
 * sentence naming the first problem, answered to the frame's `id` when it
 * had a readable one.
 */
export function parseClientFrame(data: Uint8Array | string, isBinary: boolean): ClientFrameParse {
  let id = 0;
  try {
    if (isBinary) return refuse(0, 'frames are JSON text, not binary');
    // ws closes the socket on a bigger frame (1009) before it gets here; a direct caller is held to it too.
    const bytes = typeof data === 'string' ? utf8ByteLength(data) : data.byteLength;
    if (bytes > FRAME_BYTES_MAX) return refuse(0, `the frame is over ${FRAME_BYTES_MAX} bytes`);
    let text: string;
    if (typeof data === 'string') text = data;
    else {
      try {
        text = utf8.decode(data);
      } catch {
        return refuse(0, 'the frame is not UTF-8 text');
      }
    }
    const depth = nestingDepth(text);
    if (depth > FRAME_NESTING_MAX) return refuse(leadingFrameId(data), `the frame nests arrays or objects deeper than ${FRAME_NESTING_MAX}`);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return refuse(0, 'the frame is not JSON');
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return refuse(0, `the frame is ${describe(raw)}, not a JSON object`);
    const fields = raw as Record<string, unknown>;
    const candidate = Object.hasOwn(fields, 'id') ? fields['id'] : undefined;
    if (typeof candidate === 'number' && Number.isSafeInteger(candidate) && candidate >= 0) id = candidate;
    const type = Object.hasOwn(fields, 'type') ? fields['type'] : undefined;
    if (typeof type !== 'string' || !knownTypes.has(type)) return refuse(id, `unknown request type ${describe(type)}`);
    const parsed = requestSchemaOf(type as ClientRequest['type']).safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue === undefined ? '' : issue.path.map((p) => String(p)).join('.');
      return refuse(id, `invalid ${type}: ${path} ${issue?.message ?? ''}`.trim());
    }
    return { ok: true, request: parsed.data as ClientRequest };
  } catch (error) {
    // Not reachable by design; if it is, the client still gets a refusal, not a crash.
    return refuse(id, `the frame could not be read (${error instanceof Error ? error.name : 'error'})`);
  }
}

function refuse(id: number, message: string): ClientFrameParse {
  return { ok: false, id, code: 'BAD_REQUEST', message: message.length > MESSAGE_CHARS_MAX ? `${message.slice(0, MESSAGE_CHARS_MAX - 1)}…` : message };
}

/** Characters leadingFrameId reads at most. */
const LEADING_ID_CHARS_MAX = 48;

/**
 * The `id` of a frame that starts `{"id":N` (as the SDK writes every frame),
 * read without parsing the rest: how a frame refused before it is parsed
 * (too deep, or over the rate limit) is still answered to its id. 0 when the
 * frame does not start so or N is not a safe integer. Reads at most
 * LEADING_ID_CHARS_MAX characters; never throws.
 */
export function leadingFrameId(data: Uint8Array | string): number {
  const n = Math.min(data.length, LEADING_ID_CHARS_MAX);
  const at = typeof data === 'string' ? (i: number) => data.charCodeAt(i) : (i: number) => data[i] as number;
  let i = 0;
  const skipSpace = () => {
    while (i < n && (at(i) === 0x20 || at(i) === 0x09 || at(i) === 0x0a || at(i) === 0x0d)) i++;
  };
  skipSpace();
  if (i >= n || at(i++) !== 0x7b) return 0; // {
  skipSpace();
  for (const c of [0x22, 0x69, 0x64, 0x22]) if (i >= n || at(i++) !== c) return 0; // "id"
  skipSpace();
  if (i >= n || at(i++) !== 0x3a) return 0; // :
  skipSpace();
  let id = 0;
  let digits = 0;
  while (i < n && at(i) >= 0x30 && at(i) <= 0x39) {
    id = id * 10 + (at(i) - 0x30);
    digits++;
    i++;
  }
  skipSpace();
  if (digits === 0 || digits > 16 || i >= n || (at(i) !== 0x2c && at(i) !== 0x7d)) return 0; // , or }
  return Number.isSafeInteger(id) ? id : 0;
}

/** Bytes of `text` in UTF-8 (a lone surrogate counts as the 3 bytes of U+FFFD). */
function utf8ByteLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * The deepest nesting of `[` and `{` in JSON text `text`, brackets inside
 * strings not counted. A linear scan with no recursion; on text that is not
 * JSON the figure is meaningless but finite, and JSON.parse refuses it next.
 */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** A short, safe description of an untrusted JSON value for an error message. */
function describe(value: unknown): string {
  if (value === undefined) return 'absent';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > QUOTED_CHARS_MAX ? `${value.slice(0, QUOTED_CHARS_MAX)}…` : value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return Number.isFinite(value) ? `the number ${String(value).slice(0, QUOTED_CHARS_MAX)}` : 'a number out of range';
  return `a ${typeof value}`;
}
