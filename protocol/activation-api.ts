// The key center's activation API on the wire: what a license server (or a
// script) sends to POST /api/v1/activations and what it gets back. Shared by
// the key center that answers and the license servers that ask (online
// activation), so both read one definition.
import { z } from 'zod';
import { LOCK_CODES_PER_KEY_MAX } from './license-payload.ts';

/** The activation endpoint, below the key center's base URL. */
export const ACTIVATION_PATH = '/api/v1/activations';

/** Characters of one code as typed, at most (the friendly-code parser reads no more). */
const CODE_INPUT_CHARS_MAX = 256;

/** POST /api/v1/activations. Possession of the code authorizes the request. */
export const activationRequestSchema = z
  .object({
    /** The authorization code, as typed (case, dashes and spaces do not matter). */
    authCode: z.string().max(CODE_INPUT_CHARS_MAX),
    /** The lock codes of the server, or of the three redundant servers (5 allowed). */
    lockCodes: z.array(z.string().max(CODE_INPUT_CHARS_MAX)).max(LOCK_CODES_PER_KEY_MAX * 2),
    /** Free text shown with the key ("license server, Minneapolis data center"). */
    hostDescription: z.string().max(200).optional(),
    /** Authorized-user codes: how many of the code's users this key takes (default: all left). */
    seats: z.number().int().min(1).max(1_000_000).optional(),
  })
  .strict();
export type ActivationRequest = z.infer<typeof activationRequestSchema>;

/** The answer (201): the key, one line, ready to install. The same request again answers the same key. */
export const activationAnswerSchema = z.object({
  licenseId: z.string(),
  key: z.string(),
});
export type ActivationAnswer = z.infer<typeof activationAnswerSchema>;

/** The codes an activation may be refused with (besides BAD_REQUEST and RATE_LIMITED). */
export const ACTIVATION_REFUSAL_CODES = [
  'ALREADY_ACTIVATED',
  'AUTH_CODE_TYPO',
  'AUTH_CODE_MALFORMED',
  'LOCK_CODE_TYPO',
  'LOCK_CODE_MALFORMED',
  'LOCK_CODE_COUNT',
  'DUPLICATE_LOCK_CODE',
  'UNKNOWN_AUTH_CODE',
  'ENTITLEMENT_EXPIRED',
  'SEATS_EXHAUSTED',
] as const;
