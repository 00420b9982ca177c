// Mutual TLS between members: each end shows a certificate of the site CA
// that names its node id (urn:floe:node:ID, daemon/tls/), and the Ed25519
// handshake inside the TLS channel must prove that same node id. So a stolen
// certificate without the node's identity key gets nowhere, nor a stolen
// identity key without a certificate, nor a certificate of another node.
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { NodeId } from '../raft/types.ts';
import { certificateNodeIds } from '../tls/certificate-node-ids.ts';

/** The PEM texts of a member's mutual TLS; replaced as a whole on reload. */
export interface PeerTls {
  /** This node's certificate (chain may follow), shown when listening and when dialing. */
  readonly cert: string;
  readonly key: string;
  /** The CA(s) a member's certificate must chain to; Node's bundled CAs are never trusted for peers. */
  readonly ca: string;
}

/** TLS 1.2 at least; ciphers are Node's defaults. */
export const PEER_TLS_VERSION_MIN = 'TLSv1.2';

/** The node ids the certificate of an inbound TLS socket names; undefined on a plain socket. */
export function inboundCertificateNodeIds(socket: unknown): string[] | undefined {
  const tls = socket as Partial<TLSSocket>;
  if (typeof tls.getPeerCertificate !== 'function' || tls.encrypted !== true) return undefined;
  const cert = tls.getPeerCertificate(false) as Partial<PeerCertificate> | null;
  return certificateNodeIds(cert?.subjectaltname);
}

/** `ms` since the epoch: when `cert` ends (its valid_to); undefined when absent or unreadable. */
export function certificateNotAfterMs(cert: Partial<PeerCertificate> | null | undefined): number | undefined {
  const ms = typeof cert?.valid_to === 'string' ? Date.parse(cert.valid_to) : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/** `ms` since the epoch: when the certificate of an inbound TLS socket ends; undefined on a plain socket. */
export function inboundCertificateNotAfterMs(socket: unknown): number | undefined {
  const tls = socket as Partial<TLSSocket>;
  if (typeof tls.getPeerCertificate !== 'function' || tls.encrypted !== true) return undefined;
  return certificateNotAfterMs(tls.getPeerCertificate(false) as Partial<PeerCertificate> | null);
}

/**
 * checkServerIdentity for dialing `peerId`: the listener's certificate must
 * name that node id (it already chained to the site CA). Host names are not
 * checked: a member is who its certificate and identity key say, wherever it
 * listens.
 */
export function expectPeerNodeId(peerId: NodeId, refused: (names: readonly string[]) => void): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const names = certificateNodeIds(cert.subjectaltname);
    if (names.includes(peerId)) return undefined;
    refused(names);
    return new Error(`AUTH_CERT_NODE_MISMATCH: the certificate of ${peerId}'s listener names node ${names.join(', ') || '(none)'}`);
  };
}
