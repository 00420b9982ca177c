import { sign } from 'node:crypto';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  createNonce,
  createSigner,
  decodeHandshake,
  encodeHandshake,
  handshakeTranscript,
  rawPublicKey,
  toPrivateKeyObject,
  toPublicKeyObject,
  verifySignature,
} from './peer-auth.ts';
import { testKeyPair } from './transport-kit.test-support.ts';

describe('peer authentication', () => {
  it('verifies a signature made by a tweetnacl key pair (the form daemon/identity holds)', () => {
    const pair = nacl.sign.keyPair();
    const message = handshakeTranscript('dialer', 'n1', 'n2', createNonce(), createNonce(), 'L1');
    const signer = createSigner({ publicKey: pair.publicKey, privateKey: pair.secretKey });
    expect(verifySignature(toPublicKeyObject(pair.publicKey), message, signer(message))).toBe(true);
    const viaSign = createSigner({ publicKey: pair.publicKey, sign: (m) => nacl.sign.detached(m, pair.secretKey) });
    expect(verifySignature(toPublicKeyObject(pair.publicKey), message, viaSign(message))).toBe(true);
    expect(rawPublicKey(toPublicKeyObject(pair.publicKey))).toEqual(pair.publicKey);
  });

  it('binds a signature to its role, both node ids, both nonces and the lock code of its signer', () => {
    const keys = testKeyPair();
    const [nL, nD] = [createNonce(), createNonce()];
    const signature = new Uint8Array(sign(null, handshakeTranscript('dialer', 'n1', 'n2', nL, nD, 'L1'), keys.privateKey));
    expect(verifySignature(keys.publicKey, handshakeTranscript('dialer', 'n1', 'n2', nL, nD, 'L1'), signature)).toBe(true);
    for (const other of [
      handshakeTranscript('listener', 'n1', 'n2', nL, nD, 'L1'),
      handshakeTranscript('dialer', 'n2', 'n1', nL, nD, 'L1'),
      handshakeTranscript('dialer', 'n1', 'n3', nL, nD, 'L1'),
      handshakeTranscript('dialer', 'n1', 'n2', createNonce(), nD, 'L1'),
      handshakeTranscript('dialer', 'n1', 'n2', nL, createNonce(), 'L1'),
      // A lock code swapped in flight does not verify.
      handshakeTranscript('dialer', 'n1', 'n2', nL, nD, 'L2'),
      handshakeTranscript('dialer', 'n1', 'n2', nL, nD, ''),
      // Length prefixes keep ("n1", "2n") apart from ("n12", "n").
      handshakeTranscript('dialer', 'n1n', '2', nL, nD, 'L1'),
    ]) {
      expect(verifySignature(keys.publicKey, other, signature)).toBe(false);
    }
    expect(verifySignature(keys.publicKey, handshakeTranscript('dialer', 'n1', 'n2', nL, nD, 'L1'), signature.subarray(1))).toBe(false);
  });

  it('decodes exactly the expected handshake message and nothing else', () => {
    const hello = { type: 'hello' as const, nodeId: 'n1', peerId: 'n2', nonce: createNonce(), lockCode: 'ABCDE-12345', signature: new Uint8Array(64).fill(3) };
    const text = encodeHandshake(hello);
    expect(decodeHandshake(text, 'hello')).toEqual(hello);
    expect(decodeHandshake(text, 'welcome')).toBeUndefined();
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const variants = [
      { ...parsed, extra: 1 },
      { ...parsed, nodeId: '' },
      { ...parsed, nodeId: 'x'.repeat(65) },
      { ...parsed, nodeId: 7 },
      { ...parsed, nonce: Buffer.alloc(31).toString('base64') },
      { ...parsed, lockCode: undefined },
      { ...parsed, lockCode: 7 },
      { ...parsed, lockCode: 'A'.repeat(65) },
      { ...parsed, lockCode: 'no spaces' },
      { ...parsed, signature: `${String(parsed['signature'])}=` },
      { ...parsed, signature: 'not base64!' },
    ];
    for (const variant of variants) expect(decodeHandshake(JSON.stringify(variant), 'hello')).toBeUndefined();
    for (const junk of ['', 'null', '[]', '"hello"', '{', 'x'.repeat(5000)]) expect(decodeHandshake(junk, 'hello')).toBeUndefined();
  });

  it('refuses keys of the wrong kind or length, and an identity whose halves do not match', () => {
    expect(() => toPublicKeyObject(new Uint8Array(31))).toThrow(/32 bytes/);
    expect(() => toPrivateKeyObject(new Uint8Array(33))).toThrow(/32-byte/);
    expect(() => toPublicKeyObject(testKeyPair().privateKey)).toThrow(/public/);
    expect(() => createSigner({ publicKey: testKeyPair().publicKey, privateKey: testKeyPair().privateKey })).toThrow(/does not match/);
  });
});
