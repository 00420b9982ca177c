// A runnable example of the SDK: check a seat out, hold it while "working",
// give it back. Usage:
//   npx tsx client/examples/checkout-demo.ts ws://127.0.0.1:7401/ws[,ws://…] demo [holdMs]
// Several comma-separated URLs make it fail over between them. Ctrl-C checks
// the seat in and exits.
import { hostname, userInfo } from 'node:os';
import { connect, isFloeError } from '../index.ts';

async function main(): Promise<number> {
  const [urls, feature, holdArg] = process.argv.slice(2);
  if (urls === undefined || feature === undefined) {
    console.error('usage: checkout-demo.ts SERVER_URL[,SERVER_URL…] FEATURE [holdMs]');
    return 2;
  }
  const holdMs = Number(holdArg ?? 5_000);
  const client = await connect({
    servers: urls.split(','),
    user: userInfo().username,
    host: hostname(),
    app: 'checkout-demo',
  });
  client.on('connected', (e) => console.log(`connected to ${e.server} (session ${e.sessionId}, resumed: ${e.resumed})`));
  client.on('disconnected', (e) => console.log(`disconnected from ${e.server} (${e.code}); reconnecting: ${e.willReconnect}`));
  client.on('queue', (e) => console.log(`queued for ${e.feature}: position ${e.position}`));
  client.on('revoked', (e) => console.log(`lease ${e.leaseId} revoked: ${e.code} ${e.reason}`));
  client.on('error', (e) => console.error(`error: ${e.message}`));
  console.log(`connected to ${client.server}; heartbeat every ${client.heartbeatMs} ms, lease ttl ${client.leaseTtlMs} ms`);

  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  try {
    const lease = await client.checkout(feature, { wait: true, waitMs: 60_000, signal: stop.signal });
    console.log(`checked out ${lease.count} seat(s) of ${lease.feature} v${lease.version}: lease ${lease.leaseId}`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, holdMs);
      stop.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await client.checkin(lease);
    console.log('checked in');
    return 0;
  } catch (err) {
    if (isFloeError(err)) {
      console.error(`checkout failed: ${err.code} (${err.message})`);
      return 1;
    }
    throw err;
  } finally {
    await client.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // connect() failed: no server answered, or one refused the hello for good.
    console.error(isFloeError(err) ? `cannot connect: ${err.code} (${err.message})` : err);
    process.exitCode = 1;
  },
);
