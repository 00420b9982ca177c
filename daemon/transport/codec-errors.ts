// How the peer-frame codec fails. Decoding untrusted frames never throws out
// of decodeFrame: a DecodeFailure carries a stable code and a sentence and is
// turned into a DecodeResult. Encoding our own messages fails loudly instead
// (a programmer error).
import type { Message } from '../raft/types.ts';

/** Why a frame was refused; stable codes for logs and counters. */
export type DecodeErrorCode =
  | 'FRAME_EMPTY'
  | 'FRAME_TOO_LARGE'
  | 'FRAME_VERSION_UNSUPPORTED'
  | 'FRAME_TRUNCATED'
  | 'FRAME_TRAILING_BYTES'
  | 'MESSAGE_TYPE_UNKNOWN'
  | 'FIELD_INVALID'
  | 'MESSAGE_INCONSISTENT'
  | 'LIMIT_EXCEEDED';

export type DecodeResult =
  | { readonly ok: true; readonly messages: Message[] }
  | { readonly ok: false; readonly code: DecodeErrorCode; readonly message: string };

/** Thrown inside the decoder at the first bad field; decodeFrame turns it into a DecodeResult. */
export class DecodeFailure {
  constructor(
    readonly code: DecodeErrorCode,
    readonly message: string,
  ) {}
}

/** Programmer error while encoding our own messages. */
export function fail(message: string): never {
  throw new Error(`message-codec: ${message}`);
}

/** Exhaustiveness check for the codec's switches over message types. */
export function unreachable(value: never): never {
  throw new Error(`message-codec: unexpected ${JSON.stringify(value)}`);
}
