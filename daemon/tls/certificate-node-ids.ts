// Which Floe node ids a certificate names: the `urn:floe:node:ID` URIs of its
// subjectAltName. The peer transport binds a TLS connection to the member
// whose Ed25519 identity signs the handshake through these (site-pki.ts).

/** The URI prefix of a node id in a certificate's subjectAltName. */
export const NODE_ID_URI_PREFIX = 'urn:floe:node:';

/** The subjectAltName URI naming `nodeId`. */
export function nodeIdUri(nodeId: string): string {
  return `${NODE_ID_URI_PREFIX}${nodeId}`;
}

/**
 * The node ids named by a certificate's subjectAltName, as Node renders it
 * (`tls.PeerCertificate.subjectaltname` or `X509Certificate.subjectAltName`:
 * `DNS:a, URI:urn:floe:node:n1, IP Address:10.0.0.1`). Never throws.
 */
export function certificateNodeIds(subjectAltName: string | undefined): string[] {
  if (typeof subjectAltName !== 'string') return [];
  const ids: string[] = [];
  for (const part of subjectAltName.split(/,\s*/)) {
    const uri = part.startsWith('URI:') ? part.slice(4).replace(/^"|"$/g, '') : undefined;
    if (uri === undefined || !uri.startsWith(NODE_ID_URI_PREFIX)) continue;
    const id = uri.slice(NODE_ID_URI_PREFIX.length);
    if (/^[A-Za-z0-9_-]{1,32}$/.test(id)) ids.push(id);
  }
  return ids;
}
