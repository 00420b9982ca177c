// A redundant key for two of the three servers, through the SDK: the key
// names n1, n2 and a server that is not a member (a key names 1, 3 or 5
// lock codes), so n3 answers checkouts of its feature with
// LICENSE_NOT_FOR_THIS_SERVER while n1 and n2, two of the three servers the
// key names, serve it. An application whose first server is n3 still
// gets its seat: the SDK moves its session to the next server of its list
// and re-sends the checkout there with the same requestId (docs/client.md).
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { connect, type ConnectedEvent, type FloeClient } from '../../client/index.ts';
import { loadNodeIdentity } from '../../daemon/identity/index.ts';
import { makeLicenseKey } from '../daemon/test-daemon.test-support.ts';
import { InProcessSite } from './in-process-site.test-support.ts';
import { defined } from './site-tools.test-support.ts';

const sites: InProcessSite[] = [];
const clients: FloeClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(sites.map((s) => s.close()));
});

describe('a key for two of the three servers', () => {
  it('an SDK whose first server is the one the key does not name still gets a seat, through the next server', async () => {
    const site = await InProcessSite.create({ ids: ['n1', 'n2', 'n3'], dirPrefix: 'floe-license-placement-', debugEnv: 'DEBUG_LICENSE_PLACEMENT' });
    sites.push(site);
    const { identities } = site;
    const clientUrl = (i: number) => site.peer(i).clientUrl;
    const peers = site.ids.map((_, i) => site.peer(i));
    for (const i of site.ids.keys()) await site.start(i, peers);
    const node = (id: string) => site.daemon(id).node;
    await vi.waitFor(() => defined(site.leader(), 'a leader'), { timeout: 20_000 });
    const elsewhere = loadNodeIdentity(join(site.dir, 'not-a-member'));
    const key = makeLicenseKey([identities[0]!.lockCode, identities[1]!.lockCode, elsewhere.lockCode], { seats: 5, licenseId: 'LIC-TWO-OF-THREE' });
    // Asked again while the cluster settles; LICENSE_EXISTS means an earlier try committed though its answer was lost.
    await vi.waitFor(async () => {
      const r = await node('n1').importLicense(key);
      expect(r.ok || r.code === 'LICENSE_EXISTS', `the key to be imported through n1: ${r.ok ? 'ok' : r.code}`).toBe(true);
    }, { timeout: 20_000, interval: 100 });
    await vi.waitFor(() => expect(node('n1').featureRefusal('demo') === undefined &&
      node('n2').featureRefusal('demo') === undefined &&
      node('n3').featureRefusal('demo')?.code === 'LICENSE_NOT_FOR_THIS_SERVER', 'n1 and n2 to serve the key, n3 to refuse it').toBe(true), { timeout: 20_000 });

    // preferLeader off: the session stays on n3 until the refusal moves it (the leader may be any of the three).
    const client = await connect({ servers: [clientUrl(2), clientUrl(0), clientUrl(1)], user: 'alice', host: 'ws-17', app: 'placement', preferLeader: false });
    clients.push(client);
    expect(client.server).toBe(clientUrl(2));
    const moved = new Promise<ConnectedEvent>((resolve) => client.once('connected', resolve));
    const lease = await client.checkout('demo');
    expect(lease.feature).toBe('demo');
    expect(await moved).toMatchObject({ server: clientUrl(0), resumed: true });
    expect(client.server).toBe(clientUrl(0));
    await vi.waitFor(() => expect(node('n1').leases().some((l) => l.leaseId === lease.leaseId), 'n1 to list the lease').toBe(true), { timeout: 5000 });
    await client.checkin(lease);
  }, 60_000);
});
