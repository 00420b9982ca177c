// admin/: the admin HTTP API (Hono) over a FloeNode.
export * from './admin-app.ts';
export * from './admin-env.ts';
export * from './admin-role.ts';
export * from './bearer-auth.ts';
export * from './errors.ts';
