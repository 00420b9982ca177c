// admin/: the admin HTTP API (Hono) over a FloeNode.
export * from './admin-app.ts';
export * from './bearer-auth.ts';
export * from './errors.ts';
