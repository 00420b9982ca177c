// The backup file of `floe backup` (docs/operations.md): newline-delimited
// JSON, one line per record, so it streams both ways without holding the
// usage history in memory.
//
//   {"format":"floe-backup","v":1, …header…}      what and when: applied index, membership, counts
//   {"pool":"<base64 of the pool snapshot>"}      licenses, pools, sessions, leases (ids kept), remembered answers
//   ["u",logIndex,at,kind,…]                      one usage row per line, oldest first
//   {"end":true,"usageRows":N,"sha256":"…"}       the SHA-256 of every byte before this line
//
// The trailer makes a truncated or edited file fail before anything is
// restored. Every line is parsed field by field (zod); nothing here throws
// on bad input except with a BackupError code.
import { z } from 'zod';
import type { UsageRow } from '../storage/index.ts';

/** The `format` of the header line. */
export const BACKUP_FORMAT = 'floe-backup';
/** The format version written (and the only one read). */
export const BACKUP_FORMAT_VERSION = 1;
/** Longest line read, characters: the pool line of a large state (the pool snapshot is ~64 bytes per lease). */
export const BACKUP_LINE_CHARS_MAX = 256 * 1024 * 1024;
/** Longest usage-row line, characters. */
export const USAGE_LINE_CHARS_MAX = 4096;

/** Why a backup file cannot be read or restored; `message` is a human sentence. */
export type BackupErrorCode =
  | 'BACKUP_MALFORMED'
  | 'BACKUP_UNSUPPORTED_VERSION'
  | 'BACKUP_TRUNCATED'
  | 'BACKUP_CHECKSUM_MISMATCH'
  | 'RESTORE_TARGET_NOT_EMPTY'
  | 'RESTORE_CONFIG_JOIN';

/** A refused backup file or restore target. */
export class BackupError extends Error {
  override readonly name = 'BackupError';
  constructor(
    readonly code: BackupErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const memberSchema = z
  .object({
    id: z.string().min(1).max(64),
    peerUrl: z.string().max(2048).optional(),
    clientUrl: z.string().max(2048).optional(),
    publicKey: z.string().max(128).optional(),
  })
  .strict();

const licenseSummarySchema = z
  .object({
    licenseId: z.string().min(1).max(256),
    product: z.string().max(256),
    version: z.string().max(64),
    seats: z.number().int().nonnegative(),
    expiresAt: z.number().nullable(),
    lockCodes: z.array(z.string().max(256)).max(64),
  })
  .strict();

/** The first line: what the backup holds. */
export const backupHeaderSchema = z
  .object({
    format: z.literal(BACKUP_FORMAT),
    v: z.literal(BACKUP_FORMAT_VERSION),
    /** `ms` since the epoch when the node captured the state. */
    takenAt: z.number().int().nonnegative(),
    /** The node that answered, and the leader it followed then. */
    takenBy: z.string().max(64),
    leaderId: z.string().max(64),
    /** The log index the pool snapshot is at: every entry up to it, nothing after. */
    appliedIndex: z.number().int().nonnegative(),
    /** The term of that entry. */
    term: z.number().int().nonnegative(),
    /** The membership then (voters and learners, with the addresses known for them). */
    membership: z
      .object({
        voters: z.array(z.string().max(64)).max(64),
        learners: z.array(z.string().max(64)).max(64),
        members: z.array(memberSchema).max(256),
      })
      .strict(),
    /** What the pool line holds, for people and for `floe restore`'s report. */
    counts: z
      .object({
        licenses: z.number().int().nonnegative(),
        pools: z.number().int().nonnegative(),
        sessions: z.number().int().nonnegative(),
        leases: z.number().int().nonnegative(),
      })
      .strict(),
    licenses: z.array(licenseSummarySchema).max(100_000),
    /** Bytes of the pool snapshot (decoded from the pool line's base64). */
    poolBytes: z.number().int().nonnegative(),
  })
  .strict();

/** The header line, as written and as read. */
export type BackupHeader = z.infer<typeof backupHeaderSchema>;

/** The second line. */
export const poolLineSchema = z.object({ pool: z.string() }).strict();

/** The last line. */
export const backupTrailerSchema = z
  .object({
    end: z.literal(true),
    usageRows: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();

/** The trailer line. */
export type BackupTrailer = z.infer<typeof backupTrailerSchema>;

const text = (charsMax: number) => z.string().max(charsMax);
const count = z.number().int().nonnegative();

/** One usage line: ["u", …the UsageRow fields in this order…]. */
const usageLineSchema = z.tuple([
  z.literal('u'),
  count, // logIndex
  count, // at
  text(32), // kind
  text(256), // feature
  text(64), // version
  text(256), // user
  text(256), // host
  text(128), // clientId
  count, // count
  text(64), // leaseId
  count, // waitedMs
  text(64), // code
  text(512), // reason
]);

/** The line of a usage row (without its newline). */
export function encodeUsageLine(r: UsageRow): string {
  return JSON.stringify(['u', r.logIndex, r.at, r.kind, r.feature, r.version, r.user, r.host, r.clientId, r.count, r.leaseId, r.waitedMs, r.code, r.reason]);
}

/** The usage row of a line that starts with `["u"`; throws BACKUP_MALFORMED naming `lineNumber`. */
export function decodeUsageLine(line: string, lineNumber: number): UsageRow {
  if (line.length > USAGE_LINE_CHARS_MAX) throw new BackupError('BACKUP_MALFORMED', `line ${lineNumber} is ${line.length} characters long; a usage row has at most ${USAGE_LINE_CHARS_MAX}`);
  const parsed = usageLineSchema.safeParse(parseJson(line, lineNumber));
  if (!parsed.success) throw new BackupError('BACKUP_MALFORMED', `line ${lineNumber} is not a usage row: ${parsed.error.issues[0]?.message ?? ''}`);
  const [, logIndex, at, kind, feature, version, user, host, clientId, n, leaseId, waitedMs, code, reason] = parsed.data;
  return { logIndex, at, kind, feature, version, user, host, clientId, count: n, leaseId, waitedMs, code, reason };
}

/** JSON.parse that answers BACKUP_MALFORMED instead of a SyntaxError. */
export function parseJson(line: string, lineNumber: number): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new BackupError('BACKUP_MALFORMED', `line ${lineNumber} is not JSON`);
  }
}

/** Parses `value` with `schema`, or throws BACKUP_MALFORMED saying what `line` was meant to be. */
export function parseLine<T>(schema: z.ZodType<T>, value: unknown, what: string, lineNumber: number): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BackupError('BACKUP_MALFORMED', `line ${lineNumber} is not ${what}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim());
  }
  return parsed.data;
}
