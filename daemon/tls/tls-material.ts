// A node's TLS certificate, key and CA, read from the files `[tls]` names and
// checked before anything uses them: the certificate parses, the key is its
// key, the CA parses. Loaded at start and again on SIGHUP (reload), so a bad
// renewal is refused with a sentence and the node keeps what it had.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { certificateNodeIds } from './certificate-node-ids.ts';

/** Bytes of a PEM file read, at most (a chain of a few certificates is a few KiB). */
export const TLS_FILE_BYTES_MAX = 1024 * 1024;

/** Where a node's TLS files are (absolute paths once a config is loaded). */
export interface TlsPaths {
  /** PEM: this node's certificate, optionally followed by its chain. */
  readonly certFile: string;
  /** PEM: its private key. */
  readonly keyFile: string;
  /** PEM: the CA certificate(s) members' certificates must chain to (mutual TLS between peers). */
  readonly caFile?: string | undefined;
}

/** What `floe status`, the console and metrics say of a node's certificate. */
export interface TlsCertificateStatus {
  readonly certFile: string;
  readonly subject: string;
  readonly issuer: string;
  /** ISO 8601. */
  readonly notAfter: string;
  /** `ms` since the epoch. */
  readonly notAfterMs: number;
  /** Node ids it names (urn:floe:node:ID). */
  readonly nodeIds: readonly string[];
  /** `ms` since the epoch: when the earliest CA certificate of caFile ends; absent without one. */
  readonly caNotAfterMs?: number;
  /** `ms` since the epoch: when these files were loaded (start or the latest reload). */
  readonly loadedAtMs: number;
}

/** The PEM texts a TLS server or client is given, and what they say. */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly ca: string | undefined;
  readonly status: TlsCertificateStatus;
}

/** The TLS files cannot be used: unreadable, not PEM, or a key that is not the certificate's. `message` is the sentence; `code` goes before it. */
export class TlsFilesError extends Error {
  readonly code = 'TLS_FILES_INVALID';
  override readonly name = 'TlsFilesError';
}

function readPem(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TlsFilesError(`cannot read the ${what} ${path}: ${(error as Error).message}`);
  }
  if (text.length > TLS_FILE_BYTES_MAX) throw new TlsFilesError(`the ${what} ${path} is over ${TLS_FILE_BYTES_MAX} bytes`);
  if (!text.includes('-----BEGIN ')) throw new TlsFilesError(`the ${what} ${path} is not PEM`);
  return text;
}

function pemCertificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** Reads and checks the files; throws TlsFilesError naming the file and what is wrong. */
export function loadTlsMaterial(paths: TlsPaths, nowMs = Date.now()): TlsMaterial {
  const cert = readPem(paths.certFile, 'certificate (tls.certFile)');
  const key = readPem(paths.keyFile, 'private key (tls.keyFile)');
  const ca = paths.caFile === undefined ? undefined : readPem(paths.caFile, 'CA certificate (tls.caFile)');
  const first = pemCertificates(cert)[0];
  if (first === undefined) throw new TlsFilesError(`${paths.certFile} holds no certificate`);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(first);
  } catch (error) {
    throw new TlsFilesError(`${paths.certFile} is not a readable certificate: ${(error as Error).message}`);
  }
  try {
    if (!leaf.checkPrivateKey(createPrivateKey(key))) throw new TlsFilesError(`${paths.keyFile} is not the key of the certificate ${paths.certFile}`);
  } catch (error) {
    if (error instanceof TlsFilesError) throw error;
    throw new TlsFilesError(`${paths.keyFile} is not a readable private key: ${(error as Error).message}`);
  }
  let caNotAfterMs: number | undefined;
  if (ca !== undefined && paths.caFile !== undefined) {
    const cas = pemCertificates(ca);
    if (cas.length === 0) throw new TlsFilesError(`${paths.caFile} holds no certificate`);
    for (const pem of cas) {
      try {
        const end = Date.parse(new X509Certificate(pem).validTo);
        caNotAfterMs = caNotAfterMs === undefined ? end : Math.min(caNotAfterMs, end);
      } catch (error) {
        throw new TlsFilesError(`${paths.caFile} holds an unreadable certificate: ${(error as Error).message}`);
      }
    }
  }
  try {
    createSecureContext({ cert, key, ...(ca !== undefined ? { ca } : {}) });
  } catch (error) {
    throw new TlsFilesError(`the certificate, key or CA cannot be used for TLS: ${(error as Error).message}`);
  }
  const notAfterMs = Date.parse(leaf.validTo);
  return {
    cert,
    key,
    ca,
    status: {
      certFile: paths.certFile,
      subject: leaf.subject.replace(/\n/g, ', '),
      issuer: leaf.issuer.replace(/\n/g, ', '),
      notAfter: new Date(notAfterMs).toISOString(),
      notAfterMs,
      nodeIds: certificateNodeIds(leaf.subjectAltName),
      ...(caNotAfterMs !== undefined ? { caNotAfterMs } : {}),
      loadedAtMs: nowMs,
    },
  };
}
