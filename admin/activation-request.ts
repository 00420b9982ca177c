// The offline activation request (POST /licenses/activation-request): for a
// site with no route to the key center, the cluster writes what online
// activation would send — the authorization code and every member's lock
// code, gathered the same way (clusterMembers) — plus each member's identity
// public key, a host description and the time, signed by this node's
// identity key. A person carries the file to the key center's portal or API
// and brings back a key file, which POST /licenses/key-file installs with the
// checks of online activation. A typo in the code is caught here, before the
// file travels.
import type { FloeNode } from '../daemon/node/index.ts';
import {
  activationRequestBytes,
  encodeBase64url,
  formatActivationRequestFile,
  parseAuthCode,
  verifyActivationRequestFile,
  type ActivationRequestBody,
  type ActivationRequestFile,
} from '../protocol/index.ts';
import { AdminError } from './errors.ts';
import { clusterMembers } from './key-center-activation.ts';

/** What POST /licenses/activation-request asks. */
export interface ActivationRequestAsk {
  readonly authCode: string;
  readonly hostDescription?: string | undefined;
}

/**
 * The signed request file for `ask` and every current member; throws
 * AdminError: AUTH_CODE_TYPO / AUTH_CODE_MALFORMED, CLUSTER_INCOMPLETE,
 * LOCK_CODE_DUPLICATE, IDENTITY_MISSING, REQUEST_LOCK_CODE_UNBOUND (a member
 * states a lock code that is not its node key's). `nowMs`: ms since the epoch.
 */
export function writeActivationRequest(node: FloeNode, ask: ActivationRequestAsk, nowMs: number): ActivationRequestFile {
  const code = parseAuthCode(ask.authCode);
  if (!code.ok) throw new AdminError(400, code.problem === 'TYPO' ? 'AUTH_CODE_TYPO' : 'AUTH_CODE_MALFORMED', `${code.message}; no request was written`);
  const identity = node.identity;
  if (identity === undefined) throw new AdminError(503, 'IDENTITY_MISSING', 'this node runs without a node identity and cannot sign a request');
  const peerKeys = node.peerPublicKeys();
  const members = clusterMembers(node).map((m) => {
    const publicKey = m.id === node.config.nodeId ? identity.publicKey : peerKeys.get(m.id);
    if (publicKey === undefined) throw new AdminError(503, 'CLUSTER_INCOMPLETE', `the identity key of ${m.id} is not known to this node; retry once it is connected`);
    return { nodeId: m.id, lockCode: m.lockCode, publicKey: encodeBase64url(publicKey) };
  });
  const request: ActivationRequestBody = {
    authCode: code.code,
    members,
    ...(ask.hostDescription === undefined || ask.hostDescription.trim() === '' ? {} : { hostDescription: ask.hostDescription.trim() }),
    createdAt: nowMs,
    signedBy: node.config.nodeId,
  };
  const file = formatActivationRequestFile(request, identity.sign(activationRequestBytes(request)));
  // What the key center will check, checked here first: a refusal there would cost a trip.
  const verdict = verifyActivationRequestFile(file);
  if (!verdict.ok) throw new AdminError(409, verdict.code, `${verdict.message}; no request was written`);
  return file;
}
