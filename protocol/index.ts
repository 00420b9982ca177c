// protocol/: what every layer shares. One entry point; import from here.
export * from './activation-api.ts';
export * from './activation-request-file.ts';
export * from './auth-code.ts';
export * from './base64url.ts';
export * from './friendly-code.ts';
export * from './license-key.ts';
export * from './license-payload.ts';
export * from './lock-code.ts';
export * from './lock-code-match.ts';
export * from './wire.ts';
export * from './parse-client-frame.ts';
export * from './ip-pattern.ts';
export * from './options-file.ts';
export * from './parse-policy.ts';
export * from './policy.ts';
export * from './policy-toml.ts';
export * from './borrow-token.ts';
