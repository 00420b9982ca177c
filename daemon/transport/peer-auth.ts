// The peers' mutual challenge–response handshake, and Ed25519 key handling.
//
// Every node's identity public key is in the cluster config. Before any Raft
// frame flows on a connection, both ends prove they hold the private key of
// the node they claim to be, over fresh nonces from both sides, and state
// their lock code (the machine fingerprint license keys name: a node serves
// a key only while a majority of the lock codes the key names are up):
//
//   listener → dialer   challenge {version: 2, nodeId: L, nonce: nL}
//   dialer   → listener hello     {nodeId: D, peerId: L, nonce: nD, lockCode: cD, signature: sign_D(transcript("dialer", cD))}
//   listener → dialer   welcome   {lockCode: cL, signature: sign_L(transcript("listener", cL))}
//
//   transcript(role, c) = "floe/peer-auth/v2" 0x00 role 0x00 len(D) D len(L) L nL nD len(c) c
//
// The signer's lock code is in what it signs, so it cannot be swapped in
// flight; "" states none (a node started without one, in tests).
//
// The listener's fresh nL makes a recorded hello useless on another
// connection; the dialer's fresh nD does the same for a recorded welcome; the
// role in the transcript keeps one side's signature from being reflected as
// the other's. Handshake messages are small JSON text frames; Raft frames are
// binary, so a binary frame before the handshake ends is refused outright.
// Signatures use node:crypto (≈130× faster than tweetnacl, and interoperable).
import { createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import type { NodeId } from '../raft/types.ts';

/** Bytes of each side's nonce. */
export const NONCE_BYTES = 32;
/** UTF-8 bytes of one handshake message, at most. */
export const HANDSHAKE_BYTES_MAX = 1024;

const DOMAIN = 'floe/peer-auth/v2';
/** The handshake version the challenge states; a dialer refuses any other. */
export const HANDSHAKE_VERSION = 2;
/** UTF-8 bytes of a stated lock code, at most (a node states its two lock codes in 56 characters: formatNodeLockCodes). */
export const LOCK_CODE_BYTES_MAX = 64;

/**
 * An Ed25519 public key: a node KeyObject, or the raw 32-byte key (as
 * daemon/identity's `publicKey` and tweetnacl give it).
 */
export type Ed25519PublicKey = KeyObject | Uint8Array;

/**
 * An Ed25519 private key: a node KeyObject, the raw 32-byte seed, or
 * tweetnacl's 64-byte secret key (seed followed by the public key).
 */
export type Ed25519PrivateKey = KeyObject | Uint8Array;

/**
 * How this node signs its handshake: a private key, or a signer such as
 * daemon/identity's NodeIdentity (`sign(message)` → 64-byte signature).
 */
export type PeerIdentity =
  | { readonly publicKey: Ed25519PublicKey; readonly privateKey: Ed25519PrivateKey }
  | { readonly publicKey: Ed25519PublicKey; readonly sign: (message: Uint8Array) => Uint8Array };

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A KeyObject for an Ed25519 public key; throws on a key of the wrong kind or length (a config error). */
export function toPublicKeyObject(key: Ed25519PublicKey): KeyObject {
  if (key instanceof Uint8Array) {
    if (key.length !== 32) throw new Error(`Ed25519 public key must be 32 bytes, got ${key.length}`);
    return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, key]), format: 'der', type: 'spki' });
  }
  if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519') throw new Error('an Ed25519 public KeyObject expected');
  return key;
}

/** A KeyObject for an Ed25519 private key; throws on a key of the wrong kind or length (a config error). */
export function toPrivateKeyObject(key: Ed25519PrivateKey): KeyObject {
  if (key instanceof Uint8Array) {
    if (key.length !== 32 && key.length !== 64) throw new Error(`Ed25519 private key must be a 32-byte seed or 64-byte secret key, got ${key.length}`);
    const seed = key.subarray(0, 32);
    return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  }
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') throw new Error('an Ed25519 private KeyObject expected');
  return key;
}

/** The raw 32 bytes of a public key, for comparing keys. */
export function rawPublicKey(key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - 32));
}

/** A signing function for `identity`, after checking that its private key matches its public key. */
export function createSigner(identity: PeerIdentity): (message: Uint8Array) => Uint8Array {
  const publicKey = toPublicKeyObject(identity.publicKey);
  let signer: (message: Uint8Array) => Uint8Array;
  if ('privateKey' in identity) {
    const privateKey = toPrivateKeyObject(identity.privateKey);
    signer = (message) => new Uint8Array(sign(null, message, privateKey));
  } else {
    signer = identity.sign;
  }
  const probe = randomBytes(16);
  if (!verify(null, probe, publicKey, signer(probe))) throw new Error('identity: private key does not match public key');
  return signer;
}

/** A fresh random nonce. */
export function createNonce(): Uint8Array {
  return new Uint8Array(randomBytes(NONCE_BYTES));
}

/** The bytes each side signs; see the file comment. `lockCode`: the signer's stated lock code ("" for none). */
export function handshakeTranscript(
  role: 'dialer' | 'listener',
  dialerId: NodeId,
  listenerId: NodeId,
  listenerNonce: Uint8Array,
  dialerNonce: Uint8Array,
  lockCode: string,
): Uint8Array {
  const d = Buffer.from(dialerId, 'utf8');
  const l = Buffer.from(listenerId, 'utf8');
  const c = Buffer.from(lockCode, 'utf8');
  if (d.length > 255 || l.length > 255) throw new Error('node id longer than 255 bytes');
  if (c.length > LOCK_CODE_BYTES_MAX) throw new Error(`lock code longer than ${LOCK_CODE_BYTES_MAX} bytes`);
  return Buffer.concat([
    Buffer.from(`${DOMAIN}\0${role}\0`, 'utf8'),
    Buffer.from([d.length]),
    d,
    Buffer.from([l.length]),
    l,
    listenerNonce,
    dialerNonce,
    Buffer.from([c.length]),
    c,
  ]);
}

/** True when `signature` is `key`'s Ed25519 signature of `message`; never throws. */
export function verifySignature(key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  try {
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

/** Handshake messages, as they travel in JSON text frames (byte fields in base64). */
export type HandshakeMessage =
  | { readonly type: 'challenge'; readonly version: typeof HANDSHAKE_VERSION; readonly nodeId: NodeId; readonly nonce: Uint8Array }
  | {
      readonly type: 'hello';
      readonly nodeId: NodeId;
      readonly peerId: NodeId;
      readonly nonce: Uint8Array;
      readonly lockCode: string;
      readonly signature: Uint8Array;
    }
  | { readonly type: 'welcome'; readonly lockCode: string; readonly signature: Uint8Array };

/** Encodes a handshake message as the text of one frame. */
export function encodeHandshake(message: HandshakeMessage): string {
  switch (message.type) {
    case 'challenge':
      return JSON.stringify({ type: message.type, version: message.version, nodeId: message.nodeId, nonce: b64(message.nonce) });
    case 'hello':
      return JSON.stringify({
        type: message.type,
        nodeId: message.nodeId,
        peerId: message.peerId,
        nonce: b64(message.nonce),
        lockCode: message.lockCode,
        signature: b64(message.signature),
      });
    case 'welcome':
      return JSON.stringify({ type: message.type, lockCode: message.lockCode, signature: b64(message.signature) });
    default: {
      const never: never = message;
      throw new Error(`unexpected handshake message ${JSON.stringify(never)}`);
    }
  }
}

/** Decodes one untrusted handshake frame; undefined when it is not exactly the `expected` message. Never throws. */
export function decodeHandshake<T extends HandshakeMessage['type']>(
  text: string,
  expected: T,
): Extract<HandshakeMessage, { type: T }> | undefined {
  if (text.length > HANDSHAKE_BYTES_MAX) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  if (v['type'] !== expected) return undefined;
  const keys = Object.keys(v).sort().join(',');
  let decoded: HandshakeMessage | undefined;
  if (expected === 'challenge') {
    const nonce = unb64(v['nonce'], NONCE_BYTES);
    if (keys === 'nodeId,nonce,type,version' && v['version'] === HANDSHAKE_VERSION && isNodeId(v['nodeId']) && nonce) {
      decoded = { type: 'challenge', version: HANDSHAKE_VERSION, nodeId: v['nodeId'], nonce };
    }
  } else if (expected === 'hello') {
    const nonce = unb64(v['nonce'], NONCE_BYTES);
    const signature = unb64(v['signature'], 64);
    const lockCode = v['lockCode'];
    if (
      keys === 'lockCode,nodeId,nonce,peerId,signature,type' &&
      isNodeId(v['nodeId']) &&
      isNodeId(v['peerId']) &&
      isLockCode(lockCode) &&
      nonce &&
      signature
    ) {
      decoded = { type: 'hello', nodeId: v['nodeId'], peerId: v['peerId'], nonce, lockCode, signature };
    }
  } else if (expected === 'welcome') {
    const signature = unb64(v['signature'], 64);
    const lockCode = v['lockCode'];
    if (keys === 'lockCode,signature,type' && isLockCode(lockCode) && signature) decoded = { type: 'welcome', lockCode, signature };
  }
  return decoded as Extract<HandshakeMessage, { type: T }> | undefined;
}

function isNodeId(value: unknown): value is NodeId {
  return typeof value === 'string' && value.length > 0 && Buffer.byteLength(value, 'utf8') <= 64;
}

/** "" (none stated) or printable ASCII letters, digits and dashes, as lock codes are written. */
function isLockCode(value: unknown): value is string {
  return typeof value === 'string' && value.length <= LOCK_CODE_BYTES_MAX && /^[A-Za-z0-9-]*$/.test(value);
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function unb64(value: unknown, bytes: number): Uint8Array | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) return undefined;
  const decoded = Buffer.from(value, 'base64');
  if (decoded.length !== bytes || decoded.toString('base64') !== value) return undefined;
  return new Uint8Array(decoded);
}
