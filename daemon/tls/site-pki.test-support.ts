// Test support: a site CA and node certificates written as files, the way
// `floe tls init` / `floe tls issue` leave them, for tests of TLS listeners.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSiteCa, issueNodeCertificate, type PemPair } from './site-pki.ts';

/** The files of a test site: the CA certificate and each node's certificate and key. */
export interface TestSiteTls {
  readonly ca: PemPair;
  readonly caFile: string;
  /** `[tls]` of each node's config. */
  readonly nodes: Record<string, { certFile: string; keyFile: string; caFile: string }>;
  /** Writes a new certificate for `nodeId` (optionally naming another node id) over its files. */
  renew(nodeId: string, options?: { certNodeId?: string; days?: number }): Promise<PemPair>;
}

/** Writes a site CA and a certificate for each of `nodeIds` (localhost, 127.0.0.1) into `dir`. */
export async function writeTestSiteTls(dir: string, nodeIds: readonly string[]): Promise<TestSiteTls> {
  const ca = await createSiteCa({ commonName: 'Floe test site CA' });
  const caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, ca.certPem);
  const nodes: TestSiteTls['nodes'] = {};
  const renew = async (nodeId: string, options: { certNodeId?: string; days?: number } = {}) => {
    const pair = await issueNodeCertificate(ca, { nodeId: options.certNodeId ?? nodeId, dns: ['localhost'], ip: ['127.0.0.1'], ...(options.days !== undefined ? { days: options.days } : {}) });
    const certFile = join(dir, `${nodeId}.crt`);
    const keyFile = join(dir, `${nodeId}.key`);
    writeFileSync(certFile, pair.certPem);
    writeFileSync(keyFile, pair.keyPem, { mode: 0o600 });
    nodes[nodeId] = { certFile, keyFile, caFile };
    return pair;
  };
  for (const id of nodeIds) await renew(id);
  return { ca, caFile, nodes, renew };
}
