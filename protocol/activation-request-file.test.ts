import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  activationRequestBytes,
  formatActivationRequestFile,
  verifyActivationRequestFile,
  type ActivationRequestBody,
  type ActivationRequestFile,
} from './activation-request-file.ts';
import { encodeBase64url } from './base64url.ts';
import { deriveLegacyLockCode, deriveLockCode } from './lock-code.ts';

const machine = (n: number) => ({ machineId: `machine-${n}`, macs: [`02:00:00:00:00:0${n}`], hostname: `floe${n}` });

function cluster(count = 3) {
  return Array.from({ length: count }, (_, i) => {
    const keys = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(i + 1));
    return { nodeId: `n${i + 1}`, keys, lockCode: deriveLockCode(machine(i + 1), keys.publicKey) };
  });
}

function signed(request: ActivationRequestBody, secretKey: Uint8Array): ActivationRequestFile {
  return formatActivationRequestFile(request, nacl.sign.detached(activationRequestBytes(request), secretKey));
}

function requestOf(nodes: ReturnType<typeof cluster>): ActivationRequestBody {
  return {
    authCode: 'C9XKP-X9CS0-WH5B3-KZWCP',
    members: nodes.map((n) => ({ nodeId: n.nodeId, lockCode: n.lockCode, publicKey: encodeBase64url(n.keys.publicKey) })),
    hostDescription: 'License servers, Minneapolis',
    createdAt: Date.UTC(2026, 11, 4),
    signedBy: 'n1',
  };
}

describe('verifyActivationRequestFile', () => {
  const nodes = cluster();
  const file = signed(requestOf(nodes), nodes[0]!.keys.secretKey);

  it('accepts the file as the cluster wrote it, as text or parsed, and answers its lock codes', () => {
    for (const input of [JSON.stringify(file, null, 2), file]) {
      const v = verifyActivationRequestFile(input);
      expect(v).toMatchObject({ ok: true, lockCodes: nodes.map((n) => n.lockCode) });
    }
  });

  it('answers REQUEST_SIGNATURE_INVALID when a lock code, the code, the description or the time was edited', () => {
    const edits: ((f: ActivationRequestFile) => void)[] = [
      (f) => ((f.request.members[1] as { lockCode: string }).lockCode = deriveLockCode(machine(9), nodes[1]!.keys.publicKey)),
      (f) => (f.request.authCode = 'C9XKP-X9CS0-WH5B3-KZWCQ'),
      (f) => (f.request.hostDescription = 'somewhere else'),
      (f) => (f.request.createdAt += 1),
      (f) => f.request.members.pop(),
    ];
    for (const edit of edits) {
      const copy = structuredClone(file);
      edit(copy);
      expect(verifyActivationRequestFile(JSON.stringify(copy))).toMatchObject({ ok: false, code: 'REQUEST_SIGNATURE_INVALID' });
    }
  });

  it('answers REQUEST_SIGNATURE_INVALID when the signer is not a member', () => {
    const copy = structuredClone(file);
    copy.request.signedBy = 'n9';
    expect(verifyActivationRequestFile(copy)).toMatchObject({ ok: false, code: 'REQUEST_SIGNATURE_INVALID', message: expect.stringContaining('n9') });
  });

  it('answers REQUEST_LOCK_CODE_UNBOUND when a lock code is of another node key, even signed again', () => {
    const stranger = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(77));
    const request = requestOf(nodes);
    (request.members[2] as { lockCode: string }).lockCode = deriveLockCode(machine(3), stranger.publicKey);
    const v = verifyActivationRequestFile(signed(request, nodes[0]!.keys.secretKey));
    expect(v).toMatchObject({ ok: false, code: 'REQUEST_LOCK_CODE_UNBOUND', message: expect.stringContaining('n3') });
  });

  it('accepts a legacy (0.1) lock code, whose identity cannot be checked apart', () => {
    const request = requestOf(nodes);
    const legacy = deriveLegacyLockCode(machine(2), nodes[1]!.keys.publicKey);
    (request.members[1] as { lockCode: string }).lockCode = legacy;
    expect(verifyActivationRequestFile(signed(request, nodes[0]!.keys.secretKey))).toMatchObject({ ok: true, lockCodes: [nodes[0]!.lockCode, legacy, nodes[2]!.lockCode] });
  });

  it('answers REQUEST_MALFORMED, never throwing, for what is not a request file', () => {
    const inputs: unknown[] = ['', 'not json', '{}', 'x'.repeat(20_000), null, 42, [], { ...file, extra: 1 }, { ...file, signature: 'short' }, JSON.stringify({ ...file, version: 2 })];
    const named = structuredClone(file);
    named.request.members.push({ ...named.request.members[0]! });
    inputs.push(named);
    const badLock = structuredClone(file);
    (badLock.request.members[0] as { lockCode: string }).lockCode = 'not-a-lock-code';
    inputs.push(signed(badLock.request, nodes[0]!.keys.secretKey));
    for (const input of inputs) expect(verifyActivationRequestFile(input), JSON.stringify(input)?.slice(0, 80)).toMatchObject({ ok: false, code: 'REQUEST_MALFORMED' });
  });
});
