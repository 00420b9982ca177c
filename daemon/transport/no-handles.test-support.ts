// Run as a child process by fault-injector.test.ts: exercises a
// three-node transport cluster (traffic, a refusal, a restart, pending fault
// delays), stops everything, and must then exit on its own. If any socket or
// timer were left behind, the unref'd watchdog below would fire and fail.
import process from 'node:process';
import { WebSocket } from 'ws';
import { FaultInjector } from './fault-injector.ts';
import { TestCluster, heartbeat, waitFor } from './transport-kit.test-support.ts';

const faults = new FaultInjector();
const cluster = await TestCluster.start(['n1', 'n2', 'n3'], { faults });
await cluster.connected();
cluster.node('n1').transport.send([heartbeat('n1', 'n2', 1), heartbeat('n1', 'n3', 1)]);
await waitFor(() => cluster.node('n2').inbox.length === 1 && cluster.node('n3').inbox.length === 1);
const stray = new WebSocket(`ws://127.0.0.1:${cluster.node('n1').port}/raft`);
stray.on('error', () => {});
await new Promise((resolve) => stray.once('message', resolve));
stray.send(Uint8Array.from([1, 0]));
await new Promise((resolve) => stray.once('close', resolve));
const n3 = cluster.node('n3');
await n3.transport.stop();
await cluster.startNode(n3, n3.port);
await cluster.connected();
faults.setDelay('n1', 'n2', 10_000);
cluster.node('n1').transport.send([heartbeat('n1', 'n2', 2)]);
await cluster.stop();
process.stdout.write('stopped\n');
setTimeout(() => {
  process.stdout.write(`still running: ${JSON.stringify(process.getActiveResourcesInfo())}\n`);
  process.exit(7);
}, 3000).unref();
