// daemon/client-server: the client WebSocket protocol (protocol/wire.ts) over ws.
export * from './client-connection.ts';
export * from './client-server.ts';
export * from './session-secret.ts';
export * from './frame-scheduler.ts';
export * from './open-files-limit.ts';
