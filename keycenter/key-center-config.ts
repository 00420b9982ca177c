// The key center's optional config file, KC/keycenter.toml: the address
// customers reach the portal at (for the links in mails), the name shown to
// them, where the store is (a PostgreSQL URL; without one, SQLite in KC), how
// mail leaves (an SMTP URL; without one, .eml files in KC/outbox/) and how
// strictly the keys it issues match their servers' lock codes. Every field
// has a default, so a fresh key center runs as is.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { KeyCenterError } from './key-center-error.ts';

/** The config file inside the key-center directory. */
export const CONFIG_FILE_NAME = 'keycenter.toml';
/** Where mail goes when no SMTP URL is configured: one .eml file per message. */
export const OUTBOX_DIR_NAME = 'outbox';
/** Where mail links point when the config names no publicUrl: `floe keycenter serve`'s default address. */
export const DEFAULT_PUBLIC_URL = 'http://127.0.0.1:7600';

const configSchema = z
  .object({
    /**
     * The portal's address as customers reach it; links in mails start with
     * it. Absent: they start with DEFAULT_PUBLIC_URL (only this machine
     * reaches it) and each mail says so, and `serve` warns.
     */
    publicUrl: z.string().url().max(200).regex(/^https?:\/\//).optional(),
    /** Shown in the portal's header and as the mail sender's name. */
    vendorName: z.string().min(1).max(80).default('Floe Key Center'),
    /** Cookies carry the Secure attribute (browsers keep such cookies for https:// and for http://localhost or 127.0.0.1 only). */
    secureCookies: z.boolean().default(true),
    /**
     * How the keys issued here match a server's 0.2 lock code: "tolerant" (its
     * identity and 2 of its 3 machine inputs, so a NIC or hostname change
     * needs no rehost) or "exact" (all three); written into each key's
     * payload as `lockMatch` (docs/lock-codes.md).
     */
    lockMatch: z.enum(['tolerant', 'exact']).default('tolerant'),
    /** postgres://user@host:5432/db — the store on PostgreSQL, shared by every instance; absent: SQLite in KC. The password may come from PGPASSWORD instead. */
    database: z
      .string()
      .max(2000)
      .regex(/^postgres(ql)?:\/\//i, 'a database URL starts with postgres://')
      .optional(),
    mail: z
      .object({
        /** smtp://user:password@host:587 or smtps://…; absent: .eml files in KC/outbox/. */
        smtpUrl: z.string().regex(/^smtps?:\/\//).max(500).optional(),
        /** The From address. */
        from: z.string().min(3).max(200).default('keycenter@localhost'),
      })
      .strict()
      .default({ from: 'keycenter@localhost' }),
  })
  .strict();

/** The key center's settings, defaults filled in. */
export type KeyCenterConfig = z.infer<typeof configSchema>;

/** The defaults, as a key center without a config file runs. */
export const DEFAULT_CONFIG: KeyCenterConfig = configSchema.parse({});

/** Reads DIR/keycenter.toml; the defaults when it is absent; CONFIG_INVALID naming the problem otherwise. */
export function loadKeyCenterConfig(dir: string): KeyCenterConfig {
  const path = join(dir, CONFIG_FILE_NAME);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return DEFAULT_CONFIG;
    throw new KeyCenterError('CONFIG_INVALID', `cannot read ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (error) {
    throw new KeyCenterError('CONFIG_INVALID', `${path} is not valid TOML: ${(error as Error).message.split('\n')[0]}`);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KeyCenterError('CONFIG_INVALID', `${path}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data.publicUrl === undefined ? parsed.data : { ...parsed.data, publicUrl: parsed.data.publicUrl.replace(/\/+$/, '') };
}
