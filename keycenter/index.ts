// keycenter/: the vendor side — vendor key, authorization codes, activation
// into signed license keys, and the store of what was issued.
export * from './auth-code.ts';
export * from './key-center-error.ts';
export * from './key-center.ts';
export * from './vendor-key.ts';
