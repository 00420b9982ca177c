// The TLS verification failures every Floe client names to its user: the
// SDK (client/dial-failure.ts) and the CLI's admin client (cli/admin-client.ts)
// both turn them into a sentence with the fix, from one list.

/** OpenSSL's codes (as Node reports them) for a certificate chain that does not lead to a trusted CA. */
export const UNTRUSTED_CHAIN_CODES: ReadonlySet<string> = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);
