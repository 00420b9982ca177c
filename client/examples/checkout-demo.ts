// A runnable example of the SDK: check a seat out, hold it while "working",
// give it back. Usage:
//   npx tsx client/examples/checkout-demo.ts [--ca CA_FILE] ws://127.0.0.1:7401/ws[,ws://…] demo [holdMs]
// Several comma-separated URLs make it fail over between them. --ca (or
// FLOE_CA) names the site CA a wss:// server's certificate must chain to
// (`floe demo --tls` prints this command with it). Ctrl-C checks the seat
// in and exits.
import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { connect, isFloeError, type Lease } from '../index.ts';

const USAGE = 'usage: checkout-demo.ts [--ca CA_FILE] SERVER_URL[,SERVER_URL…] FEATURE [holdMs]';

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: process.argv.slice(2), options: { ca: { type: 'string' } }, allowPositionals: true, strict: true });
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const [urls, feature, holdArg] = parsed.positionals;
  if (urls === undefined || feature === undefined) {
    console.error(USAGE);
    return 2;
  }
  const caFile = parsed.values.ca ?? process.env['FLOE_CA'];
  const holdMs = Number(holdArg ?? 5_000);
  const client = await connect({
    servers: urls.split(','),
    user: userInfo().username,
    host: hostname(),
    app: 'checkout-demo',
    ...(caFile === undefined || caFile === '' ? {} : { caFile }),
  });
  client.on('connected', (e) => console.log(`connected to ${e.server} (session ${e.sessionId}, resumed: ${e.resumed})`));
  client.on('disconnected', (e) => console.log(`disconnected from ${e.server} (${e.code}); reconnecting: ${e.willReconnect}`));
  client.on('queue', (e) => console.log(`queued for ${e.feature}: position ${e.position}`));
  client.on('revoked', (e) => console.log(`lease ${e.leaseId} revoked: ${e.code} ${e.reason}`));
  client.on('error', (e) => console.error(`error: ${e.message}`));
  console.log(`connected to ${client.server}; heartbeat every ${client.heartbeatMs} ms, lease ttl ${client.leaseTtlMs} ms`);

  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  // Each step says what failed: a refused checkout is not a failed checkin.
  let step = 'checkout';
  try {
    const lease: Lease = await client.checkout(feature, { wait: true, waitMs: 60_000, signal: stop.signal });
    console.log(`checked out ${lease.count} seat(s) of ${lease.feature} v${lease.version}: lease ${lease.leaseId}`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, holdMs);
      stop.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    step = 'checkin';
    await client.checkin(lease);
    console.log('checked in');
    return 0;
  } catch (err) {
    if (isFloeError(err)) {
      console.error(`${step} failed: ${err.message}`);
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
    // connect() failed: no server answered (the message ends with why: a refused port, a TLS certificate this
    // client does not trust), or one refused the hello for good.
    console.error(isFloeError(err) ? `cannot connect: ${err.message}` : err);
    process.exitCode = 1;
  },
);
