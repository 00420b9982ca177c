// The site's own small PKI: a site CA (`floe tls init`) and node
// certificates it signs (`floe tls issue`). A node certificate names its
// node id as the URI `urn:floe:node:ID` in its subjectAltName, beside the DNS
// names and IP addresses clients and browsers check: the peer transport
// accepts a member only when its certificate chains to the site CA *and*
// names the node id the member proves with its Ed25519 identity
// (docs/security.md says why a CA and not pinned keys).
//
// Keys are ECDSA P-256 made by Node's WebCrypto; @peculiar/x509 only encodes
// the certificates (Node's crypto reads X.509 but cannot write it).
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import { nodeIdUri } from './certificate-node-ids.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** `days` a site CA is valid unless told otherwise (ten years: a CA is replaced rarely and on purpose). */
export const CA_VALIDITY_DAYS_DEFAULT = 3650;
/** `days` a node certificate is valid unless told otherwise (about 13 months; renew it yearly). */
export const NODE_CERT_VALIDITY_DAYS_DEFAULT = 397;
/** `days` any certificate may be valid, at most. */
export const CERT_VALIDITY_DAYS_MAX = 36_500;
/** DNS names plus IP addresses one node certificate may carry, at most. */
export const SUBJECT_ALT_NAMES_MAX = 64;

const DAY_MS = 24 * 3600 * 1000;
/** `ms` a certificate is back-dated, so a peer whose clock is a little behind accepts it at once. */
const NOT_BEFORE_SLACK_MS = 5 * 60 * 1000;

/** A certificate and its private key, both PEM. */
export interface PemPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** What a node certificate names. */
export interface NodeCertificateRequest {
  /** The member's `nodeId` (1–32 of `A-Za-z0-9_-`). */
  readonly nodeId: string;
  /** DNS names clients and browsers reach the node by. */
  readonly dns: readonly string[];
  /** IP addresses clients reach the node by (v4 or v6). */
  readonly ip: readonly string[];
  /** `days` of validity; default NODE_CERT_VALIDITY_DAYS_DEFAULT. */
  readonly days?: number;
}

/** A bad request to the PKI (a node id, a name, a validity): never half-made. */
export class PkiError extends Error {
  override readonly name = 'PkiError';
  constructor(
    readonly code: 'TLS_REQUEST_INVALID' | 'TLS_CA_INVALID',
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

function checkDays(days: number): number {
  if (!Number.isInteger(days) || days < 1 || days > CERT_VALIDITY_DAYS_MAX) throw new PkiError('TLS_REQUEST_INVALID', `days must be an integer from 1 to ${CERT_VALIDITY_DAYS_MAX}, got ${days}`);
  return days;
}

function serialNumber(): string {
  // Positive 16-byte serial (top bit clear), as RFC 5280 asks.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes.toString('hex');
}

function keyPem(pkcs8: ArrayBuffer): string {
  const body = Buffer.from(pkcs8).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** Escapes a value for an X.500 name string (RFC 4514). */
function rdnValue(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1');
}

/** Creates a site CA: a self-signed certificate allowed to sign node certificates only (path length 0). */
export async function createSiteCa(options: { commonName?: string; days?: number; nowMs?: number } = {}): Promise<PemPair> {
  const days = checkDays(options.days ?? CA_VALIDITY_DAYS_DEFAULT);
  const nowMs = options.nowMs ?? Date.now();
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${rdnValue(options.commonName ?? 'Floe site CA')}`,
    notBefore: new Date(nowMs - NOT_BEFORE_SLACK_MS),
    notAfter: new Date(nowMs + days * DAY_MS),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: keyPem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)) };
}

/**
 * Issues a node certificate signed by the site CA `ca`: good for TLS servers
 * (clients, browsers, peers dialing it) and TLS clients (this node dialing
 * its peers), naming `urn:floe:node:ID` and the given DNS names and IPs.
 */
export async function issueNodeCertificate(ca: PemPair, request: NodeCertificateRequest, nowMs = Date.now()): Promise<PemPair> {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(request.nodeId)) throw new PkiError('TLS_REQUEST_INVALID', `node id "${request.nodeId.slice(0, 40)}" is not 1–32 of A-Za-z0-9_-`);
  const days = checkDays(request.days ?? NODE_CERT_VALIDITY_DAYS_DEFAULT);
  if (request.dns.length + request.ip.length > SUBJECT_ALT_NAMES_MAX) throw new PkiError('TLS_REQUEST_INVALID', `at most ${SUBJECT_ALT_NAMES_MAX} DNS names and IP addresses`);
  for (const name of request.dns) {
    if (!/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/.test(name) || name.length > 253) throw new PkiError('TLS_REQUEST_INVALID', `"${name.slice(0, 80)}" is not a DNS name`);
  }
  for (const ip of request.ip) {
    if (isIP(ip) === 0) throw new PkiError('TLS_REQUEST_INVALID', `"${ip.slice(0, 80)}" is not an IP address`);
  }
  let caCert: x509.X509Certificate;
  let caKey: CryptoKey;
  try {
    caCert = new x509.X509Certificate(ca.certPem);
    const der = Buffer.from(ca.keyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    caKey = await webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, false, ['sign']);
  } catch (error) {
    throw new PkiError('TLS_CA_INVALID', `the site CA's certificate or key cannot be read (an ECDSA P-256 CA made by floe tls init is expected): ${(error as Error).message}`);
  }
  const keys = await generateKeys();
  const names: x509.JsonGeneralName[] = [
    { type: 'url', value: nodeIdUri(request.nodeId) },
    ...request.dns.map((value) => ({ type: 'dns' as const, value })),
    ...request.ip.map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${rdnValue(request.nodeId)}`,
    issuer: caCert.subject,
    notBefore: new Date(nowMs - NOT_BEFORE_SLACK_MS),
    notAfter: new Date(Math.min(nowMs + days * DAY_MS, caCert.notAfter.getTime())),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: keyPem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)) };
}
