// The named maximum of every collection in the admin state (TIGER_STYLE).

/** Tokens created through the API, at most (the config's tokens do not count). */
export const TOKENS_MAX = 256;

/** Characters of a token name. */
export const TOKEN_NAME_CHARS_MAX = 64;

/** Audit entries kept; the oldest is dropped beyond it. */
export const AUDIT_ENTRIES_MAX = 5_000;

/** Characters of an audit entry's target or detail (longer ones are cut). */
export const AUDIT_TEXT_CHARS_MAX = 200;

/** Token uses one token-use command carries, at most. */
export const TOKEN_USES_PER_COMMAND_MAX = TOKENS_MAX;
