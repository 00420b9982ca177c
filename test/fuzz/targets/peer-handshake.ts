// Fuzz target: the peer handshake's JSON text frames (peer-auth.ts), as any
// stranger who reaches the peer port may send them before authenticating,
// and the upgrade token a dialer vouches with (upgrade-token.ts).
// Each of the three messages is fuzzed where it is expected: hostile JSON,
// random bytes as text, and a valid message with one field changed. What
// decodes must be exactly the expected message, and the listener's next
// steps on it (transcript, signature check) must not throw either.
import fc from 'fast-check';
import {
  createNonce,
  decodeHandshake,
  encodeHandshake,
  handshakeTranscript,
  HANDSHAKE_VERSION,
  NONCE_BYTES,
  toPublicKeyObject,
  verifySignature,
} from '../../../daemon/transport/peer-auth.ts';
import { createUpgradeToken, verifyUpgradeToken } from '../../../daemon/transport/upgrade-token.ts';
import type { FuzzTarget } from '../fuzz-target.ts';
import { hostileJsonText, randomText, withOneFieldMutated } from '../hostile-values.ts';

const nonce = createNonce();
const signature = new Uint8Array(64).fill(9);
const VALID = {
  challenge: JSON.parse(encodeHandshake({ type: 'challenge', version: HANDSHAKE_VERSION, nodeId: 'n1', nonce })) as object,
  hello: JSON.parse(encodeHandshake({ type: 'hello', nodeId: 'n2', peerId: 'n1', nonce, lockCode: 'ABCDE-FGHIJ', signature })) as object,
  welcome: JSON.parse(encodeHandshake({ type: 'welcome', lockCode: 'ABCDE-FGHIJ', signature })) as object,
};
type Kind = keyof typeof VALID;
const KINDS: readonly Kind[] = ['challenge', 'hello', 'welcome'];

const handshakeInput = fc.constantFrom(...KINDS).chain((kind) =>
  fc.record({
    kind: fc.constant(kind),
    text: fc.oneof(
      { weight: 3, arbitrary: withOneFieldMutated(VALID[kind]) },
      { weight: 2, arbitrary: hostileJsonText },
      { weight: 1, arbitrary: randomText },
      { weight: 1, arbitrary: fc.constant(JSON.stringify(VALID[kind])) },
    ),
  }),
);

/** A public key no handshake signature matches. */
const someKey = toPublicKeyObject(new Uint8Array(32).fill(1));

const VALID_TOKEN = createUpgradeToken('n2', 'n1', 1_750_000_000_000, () => signature);
const [tokenClaim, tokenSignature] = VALID_TOKEN.split('.') as [string, string];
/** An upgrade token header: hostile text, a claim with one field changed (and any signature), random bytes. */
const upgradeToken: fc.Arbitrary<string> = fc.oneof(
  hostileJsonText,
  randomText,
  withOneFieldMutated(JSON.parse(Buffer.from(tokenClaim, 'base64url').toString('utf8')) as object).map((json) => `${Buffer.from(json).toString('base64url')}.${tokenSignature}`),
  fc.constant(VALID_TOKEN),
);

/** The handshake: decodeHandshake() answers the expected message or nothing, and what follows never throws. */
export const peerHandshakeTarget: FuzzTarget = {
  name: 'peer-handshake',
  claim: 'a handshake frame or upgrade token of any content decodes to exactly the expected message or is refused, and never throws',
  runsInTest: 400,
  open: async () => ({
    property: fc.property(handshakeInput, upgradeToken, ({ kind, text }, token) => {
      // No key signs with a made-up signature: a token never vouches, whatever it says.
      if (verifyUpgradeToken(token, 'n1', 1_750_000_000_000, () => someKey) !== undefined) throw new Error('a made-up token vouched');
      const decoded = decodeHandshake(text, kind);
      if (decoded === undefined) return;
      if (decoded.type !== kind) throw new Error(`expected ${kind}, decoded ${String(decoded.type)}`);
      if (decoded.type === 'challenge' && decoded.nonce.length !== NONCE_BYTES) throw new Error('a challenge nonce of the wrong length');
      if (decoded.type === 'hello') {
        // The listener's next steps on a decoded hello (peer-transport.ts onHandshake).
        const transcript = handshakeTranscript('dialer', decoded.nodeId, 'n1', nonce, decoded.nonce, decoded.lockCode);
        if (verifySignature(someKey, transcript, decoded.signature)) throw new Error('a made-up signature verified');
      }
      if (decoded.type === 'welcome') handshakeTranscript('listener', 'n1', 'n2', nonce, nonce, decoded.lockCode);
    }),
    close: async () => {},
  }),
};
