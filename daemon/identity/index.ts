// daemon/identity/: who this node is (its Ed25519 identity) and its lock code.
export * from './machine-identifiers.ts';
export * from './node-identity.ts';
