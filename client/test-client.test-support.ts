// The SDK client every fake-server test connects: one set of connect()
// options (fast backoff, a short reply timeout) so the test files agree on
// what "a client" is and differ only in what they pass on top.
import { connect, type ConnectOptions, type FloeClient } from './index.ts';

/** Connects to `servers` with the tests' defaults, overridden by `options`. */
export function connectTestClient(servers: readonly string[], options: Partial<ConnectOptions> = {}): Promise<FloeClient> {
  return connect({
    servers,
    user: 'alice',
    host: 'ws-17',
    app: 'stats',
    backoffBaseMs: 5,
    backoffMaxMs: 20,
    replyTimeoutMs: 1_000,
    ...options,
  });
}
