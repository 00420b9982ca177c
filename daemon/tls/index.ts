// daemon/tls/: TLS for every listener — the site PKI (`floe tls init|issue`),
// the node's certificate files and their reload, the node ids a certificate
// names, and which binds may stay plain.
export * from './certificate-node-ids.ts';
export * from './loopback-host.ts';
export * from './site-pki.ts';
export * from './tls-material.ts';
