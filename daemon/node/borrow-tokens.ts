// Borrow tokens on the node (the I/O layer of borrowing): the cluster's
// borrow key lives in the pool (replicated, so every node signs and verifies
// with the same key, and a borrow survives any node's death); this file
// creates it when the pool has none (a fresh Ed25519 key proposed through
// the log: the first one set wins), signs the token of a `borrowed` reply
// and verifies a token a client hands back. Node's crypto, not tweetnacl:
// signing sits on a request's path (STYLE.md, known traps).
import { generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import {
  borrowTokenPayloadBytes,
  decodeBase64url,
  encodeBase64url,
  formatBorrowToken,
  parseBorrowToken,
  type BorrowTokenPayload,
} from '../../protocol/index.ts';
import { borrowKey, type ApplyResult, type PoolReply, type PoolState } from '../pool/index.ts';
import { rawPublicKey, toPrivateKeyObject, toPublicKeyObject } from '../transport/peer-auth.ts';
import type { UnstampedCommand } from './command-codec.ts';

/** What BorrowTokens needs of its node. */
export interface BorrowTokenDeps {
  readonly pool: () => PoolState;
  readonly propose: (command: UnstampedCommand) => Promise<ApplyResult>;
}

/** A verified token, or why it is refused. */
export type TokenCheck = { ok: true; payload: BorrowTokenPayload } | { ok: false; code: string; message: string };

/** The cluster's borrow key as the node uses it (KeyObjects cached per key). */
interface Keys {
  readonly publicKeyText: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** Signs and verifies borrow tokens with the key the pool holds. */
export class BorrowTokens {
  private keys: Keys | undefined;
  private creating: Promise<void> | undefined;

  constructor(private readonly deps: BorrowTokenDeps) {}

  /** Resolves once the pool has a borrow key: proposes a fresh one when it has none (a concurrent proposal's key may win). */
  async ensureKey(): Promise<void> {
    if (borrowKey(this.deps.pool()) !== undefined) return;
    this.creating ??= (async () => {
      const pair = generateKeyPairSync('ed25519');
      const seed = pair.privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32);
      const r = await this.deps.propose({
        type: 'borrow-key-set',
        publicKey: encodeBase64url(rawPublicKey(pair.publicKey)),
        secretKey: encodeBase64url(new Uint8Array(seed)),
      });
      if (!r.reply.ok) throw new Error(`the borrow key was refused: ${r.reply.code}`);
    })().finally(() => {
      this.creating = undefined;
    });
    await this.creating;
  }

  /** The cluster's borrow public key (base64url), or undefined before one is set. */
  get publicKey(): string | undefined {
    return borrowKey(this.deps.pool())?.publicKey;
  }

  private current(): Keys | undefined {
    const k = borrowKey(this.deps.pool());
    if (k === undefined) return undefined;
    if (this.keys?.publicKeyText !== k.publicKey) {
      const seed = decodeBase64url(k.secretKey);
      const pub = decodeBase64url(k.publicKey);
      if (seed === undefined || pub === undefined) throw new Error('assert: the pool holds a malformed borrow key');
      this.keys = { publicKeyText: k.publicKey, privateKey: toPrivateKeyObject(seed), publicKey: toPublicKeyObject(pub) };
    }
    return this.keys;
  }

  /** The token of a `borrowed` reply (deterministic: Ed25519 signs the same payload the same way, so a retried borrow gets the same token). */
  sign(reply: Extract<PoolReply, { type: 'borrowed' }>): { token: string; publicKey: string } {
    const keys = this.current();
    if (keys === undefined) throw new Error('assert: a borrow was granted before the cluster had a borrow key');
    const l = reply.lease;
    const payload: BorrowTokenPayload = {
      v: 1,
      kid: keys.publicKeyText,
      leaseId: l.leaseId,
      feature: l.feature,
      version: l.version,
      count: l.count,
      clientId: reply.clientId,
      user: reply.user,
      host: reply.host,
      fingerprint: reply.fingerprint,
      borrowedAt: reply.borrowedAt,
      expiresAt: l.expiresAt,
      fencingToken: l.fencingToken,
    };
    const bytes = borrowTokenPayloadBytes(payload);
    return { token: formatBorrowToken(bytes, new Uint8Array(sign(null, bytes, keys.privateKey))), publicKey: keys.publicKeyText };
  }

  /** Checks a token's format and signature by the cluster's key (not its time: an expired token still names its lease). */
  verify(text: string): TokenCheck {
    const parsed = parseBorrowToken(text);
    if (parsed === undefined) return { ok: false, code: 'BORROW_TOKEN_MALFORMED', message: 'The text is not a Floe borrow token.' };
    const keys = this.current();
    if (keys === undefined || parsed.payload.kid !== keys.publicKeyText || !verify(null, parsed.payloadBytes, keys.publicKey, parsed.signature)) {
      return { ok: false, code: 'BORROW_TOKEN_SIGNATURE_INVALID', message: "The token is not signed with this cluster's borrow key." };
    }
    return { ok: true, payload: parsed.payload };
  }
}
