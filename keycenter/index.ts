// keycenter/: the vendor side — vendor key, authorization codes, accounts and
// orders, activation into signed license keys, members and their sign-in, the
// mail outbox, and the store of all of it. keycenter/server/ serves it.
export * from './accounts.ts';
export * from './activation.ts';
export * from './audit-trail.ts';
export * from './auth-code.ts';
export * from './borrow-period.ts';
export * from './code-generation.ts';
export * from './entitlement.ts';
export * from './issued-key.ts';
export * from './key-center-config.ts';
export * from './key-center-context.ts';
export * from './key-center-error.ts';
export * from './key-center.ts';
export * from './member-auth.ts';
export * from './members.ts';
export * from './order-input.ts';
export * from './rate-limiter.ts';
export * from './rate-limits.ts';
export * from './request-file-activation.ts';
export * from './staff.ts';
export * from './store/key-center-store.ts';
export * from './vendor-key.ts';
