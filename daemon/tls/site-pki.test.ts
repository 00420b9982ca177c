import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { certificateNodeIds } from './certificate-node-ids.ts';
import { isLoopbackHost } from './loopback-host.ts';
import { PkiError, createSiteCa, issueNodeCertificate } from './site-pki.ts';

describe('site PKI', () => {
  it('issues a node certificate that chains to the site CA and names the node id, DNS names and IPs', async () => {
    const ca = await createSiteCa({ commonName: 'Acme site CA' });
    const node = await issueNodeCertificate(ca, { nodeId: 'n1', dns: ['floe1.example.com'], ip: ['10.0.0.1', '::1'] });
    const caCert = new X509Certificate(ca.certPem);
    const cert = new X509Certificate(node.certPem);
    expect(caCert.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(certificateNodeIds(cert.subjectAltName)).toEqual(['n1']);
    expect(cert.checkHost('floe1.example.com')).toBe('floe1.example.com');
    expect(cert.checkIP('10.0.0.1')).toBe('10.0.0.1');
    expect(Date.parse(cert.validTo) - Date.now()).toBeGreaterThan(396 * 24 * 3600 * 1000);
  });

  it('refuses a node id, DNS name or IP that is not one, with TLS_REQUEST_INVALID', async () => {
    const ca = await createSiteCa();
    await expect(issueNodeCertificate(ca, { nodeId: 'n 1', dns: [], ip: [] })).rejects.toThrow(PkiError);
    await expect(issueNodeCertificate(ca, { nodeId: 'n1', dns: ['bad name'], ip: [] })).rejects.toThrow(/TLS_REQUEST_INVALID/);
    await expect(issueNodeCertificate(ca, { nodeId: 'n1', dns: [], ip: ['10.0.0.300'] })).rejects.toThrow(/TLS_REQUEST_INVALID/);
  });

  it('reads node ids only from urn:floe:node: URIs', () => {
    expect(certificateNodeIds('DNS:a.example, URI:urn:floe:node:n2, URI:https://x, IP Address:10.0.0.1')).toEqual(['n2']);
    expect(certificateNodeIds(undefined)).toEqual([]);
    expect(certificateNodeIds('URI:urn:floe:node:bad id')).toEqual([]);
  });

  it('treats only loopback hosts as loopback', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'floe1.example.com', '192.168.1.1']) expect(isLoopbackHost(h)).toBe(false);
  });
});
