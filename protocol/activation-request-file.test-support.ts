// Test support: request files signed as a cluster of made-up nodes would sign
// them (deterministic keys and machines), for the key center's tests.
import nacl from 'tweetnacl';
import { activationRequestBytes, formatActivationRequestFile, type ActivationRequestBody, type ActivationRequestFile } from './activation-request-file.ts';
import { encodeBase64url } from './base64url.ts';
import { deriveLockCode } from './lock-code.ts';

/** `count` made-up nodes (n1…), their identity key pairs from `seed` and their lock codes. */
export function madeUpCluster(count = 3, seed = 1) {
  return Array.from({ length: count }, (_, i) => {
    const keys = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(seed + i));
    const machine = { machineId: `machine-${seed + i}`, macs: [`02:00:00:00:00:${String(seed + i).padStart(2, '0').slice(-2)}`], hostname: `floe${seed + i}` };
    return { nodeId: `n${i + 1}`, keys, lockCode: deriveLockCode(machine, keys.publicKey) };
  });
}

/** The request file of `authCode` for `nodes`, signed by the first. */
export function signedRequestFile(authCode: string, nodes = madeUpCluster(), extra: Partial<ActivationRequestBody> = {}): ActivationRequestFile {
  const request: ActivationRequestBody = {
    authCode,
    members: nodes.map((n) => ({ nodeId: n.nodeId, lockCode: n.lockCode, publicKey: encodeBase64url(n.keys.publicKey) })),
    createdAt: Date.UTC(2026, 11, 4),
    signedBy: nodes[0]!.nodeId,
    ...extra,
  };
  return formatActivationRequestFile(request, nacl.sign.detached(activationRequestBytes(request), nodes[0]!.keys.secretKey));
}
