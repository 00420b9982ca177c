import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Message } from '../raft/types.ts';
import { FaultInjector } from './fault-injector.ts';
import { TestCluster, heartbeat, WAIT } from './transport-kit.test-support.ts';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

async function cluster(ids: string[], faults?: FaultInjector): Promise<TestCluster> {
  const c = await TestCluster.start(ids, faults === undefined ? {} : { faults });
  stops.push(() => c.stop());
  await c.connected();
  return c;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Every ordered pair of distinct ids sends one heartbeat tagged `tag`. */
function sendAll(c: TestCluster, tag: number): void {
  for (const from of c.nodes.keys()) {
    c.node(from).transport.send([...c.nodes.keys()].filter((to) => to !== from).map((to) => heartbeat(from, to, tag)));
  }
}

/** "from>to" for every message tagged `tag` received anywhere, sorted. */
function links(c: TestCluster, tag: number): string[] {
  const seen: string[] = [];
  for (const node of c.nodes.values()) {
    for (const m of node.inbox) if (m.type === 'heartbeat' && m.commit === tag) seen.push(`${m.from}>${m.to}`);
  }
  return seen.sort();
}

describe('FaultInjector', () => {
  it('isolating a node stops its traffic both ways until it rejoins', async () => {
    const faults = new FaultInjector();
    const c = await cluster(['n1', 'n2', 'n3'], faults);
    faults.isolate('n1');
    sendAll(c, 1);
    await vi.waitFor(() => expect(links(c, 1).length === 2).toBe(true), WAIT);
    await pause(100);
    expect(links(c, 1)).toEqual(['n2>n3', 'n3>n2']);
    expect(c.node('n1').transport.stats().peers['n2']?.dropped.faults).toBe(1);
    faults.rejoin('n1');
    sendAll(c, 2);
    await vi.waitFor(() => expect(links(c, 2).length === 6, 'healed traffic').toBe(true), { ...WAIT, timeout: 5000 });
  });

  it('a symmetric partition cuts both directions between the sides, and heal() restores them', async () => {
    const faults = new FaultInjector();
    const c = await cluster(['n1', 'n2', 'n3'], faults);
    faults.partition(['n1'], ['n2']);
    sendAll(c, 1);
    await vi.waitFor(() => expect(links(c, 1).length === 4).toBe(true), WAIT);
    await pause(100);
    expect(links(c, 1)).toEqual(['n1>n3', 'n2>n3', 'n3>n1', 'n3>n2']);
    faults.heal();
    sendAll(c, 2);
    await vi.waitFor(() => expect(links(c, 2).length === 6, 'healed traffic').toBe(true), { ...WAIT, timeout: 5000 });
  });

  it('an asymmetric partition drops one direction only', async () => {
    const faults = new FaultInjector();
    const c = await cluster(['n1', 'n2'], faults);
    faults.dropLink('n1', 'n2');
    sendAll(c, 1);
    await vi.waitFor(() => expect(links(c, 1).length === 1).toBe(true), WAIT);
    await pause(100);
    expect(links(c, 1)).toEqual(['n2>n1']);
    faults.restoreLink('n1', 'n2');
    sendAll(c, 2);
    await vi.waitFor(() => expect(links(c, 2).length === 2).toBe(true), WAIT);
  });

  it('the receiver alone enforces a cut when only its injector has the rule', async () => {
    const receiverFaults = new FaultInjector();
    const c = await TestCluster.start(['n1'], {});
    stops.push(() => c.stop());
    // n2 joins with its own injector; n1 has none.
    const withFaults = await TestCluster.start(['n2'], { faults: receiverFaults });
    stops.push(() => withFaults.stop());
    const peers = [...c.peers(), ...withFaults.peers()];
    await c.node('n1').transport.updatePeers(peers);
    await withFaults.node('n2').transport.updatePeers(peers);
    await vi.waitFor(() => expect(c.node('n1').transport.stats().peers['n2']?.connected === true).toBe(true), WAIT);
    receiverFaults.dropLink('n1', 'n2');
    c.node('n1').transport.send([heartbeat('n1', 'n2', 1)]);
    await vi.waitFor(() => expect(withFaults.node('n2').transport.stats().peers['n1']?.dropped.faults === 1).toBe(true), WAIT);
    expect(withFaults.node('n2').inbox).toEqual([]);
    expect(receiverFaults.stats().droppedMessages).toBe(1);
  });

  it('delays messages on a link by the configured time', async () => {
    const faults = new FaultInjector();
    const c = await cluster(['n1', 'n2'], faults);
    faults.setDelay('n1', 'n2', 200);
    const sentAt = Date.now();
    sendAll(c, 1);
    await vi.waitFor(() => expect(links(c, 1).includes('n2>n1')).toBe(true), WAIT);
    expect(links(c, 1)).toEqual(['n2>n1']);
    await vi.waitFor(() => expect(links(c, 1).length === 2).toBe(true), WAIT);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(190);
    faults.setDelay('n1', 'n2', 0);
    expect(faults.delayMs('n1', 'n2')).toBe(0);
    expect(() => faults.setDelay('n1', 'n2', -1)).toThrow();
  });

  it('a snapshot a fault drops is reported not sent, so Raft does not wait for it', async () => {
    const faults = new FaultInjector();
    const c = await cluster(['n1', 'n2'], faults);
    const statuses: [string, boolean][] = [];
    c.node('n1').transport.onSnapshotStatus((peerId, ok) => statuses.push([peerId, ok]));
    faults.dropLink('n1', 'n2');
    const snap: Message = {
      type: 'snap',
      from: 'n1',
      to: 'n2',
      term: 3,
      snapshot: { metadata: { index: 50, term: 3, confState: { voters: ['n1', 'n2'], learners: [] } }, data: new Uint8Array(100) },
    };
    c.node('n1').transport.send([snap]);
    expect(statuses).toEqual([['n2', false]]);
    expect(c.node('n1').transport.stats().peers['n2']?.dropped.faults).toBe(1);
  });

  it('an app payload on a cut link is refused at once and counted', async () => {
    const faults = new FaultInjector();
    const c = await cluster(['n1', 'n2'], faults);
    faults.isolate('n2');
    expect(c.node('n1').transport.sendApp('n2', Uint8Array.of(1, 2, 3))).toBe(false);
    expect(c.node('n1').transport.stats().peers['n2']?.droppedAppPayloads).toBe(1);
    faults.rejoin('n2');
    const received: number[][] = [];
    c.node('n2').transport.onApp((_peerId, payloads) => received.push(...payloads.map((p) => [...p])));
    expect(c.node('n1').transport.sendApp('n2', Uint8Array.of(4))).toBe(true);
    await vi.waitFor(() => expect(received).toEqual([[4]]), WAIT);
  });

  it('a transport built without the decorator carries traffic whatever the injector says', async () => {
    const faults = new FaultInjector();
    faults.isolate('n1');
    const c = await cluster(['n1', 'n2']);
    sendAll(c, 1);
    await vi.waitFor(() => expect(links(c, 1)).toEqual(['n1>n2', 'n2>n1']), WAIT);
    expect(faults.stats().droppedMessages).toBe(0);
  });

  it('stop() leaves no sockets or timers behind: the process exits on its own', async () => {
    const fixture = fileURLToPath(new URL('./no-handles.test-support.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(output).toContain('stopped');
    expect(output).not.toContain('still running');
    expect(code).toBe(0);
  });
});
