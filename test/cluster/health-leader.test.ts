// `floe health --wait` as the first node of a three-node site comes up: it
// answers, but knows no leader until a second member joins it, and serves
// nothing until then. The probe waits for the leader; --without-leader (the
// systemd unit's probe, whose peers may start later) is content with the answer.
import { afterAll, describe, expect, it } from 'vitest';
import { floe } from '../../cli/cli-harness.test-support.ts';
import { run as health } from '../../cli/health.ts';
import { InProcessSite } from './in-process-site.test-support.ts';

let site: InProcessSite | undefined;
afterAll(async () => {
  await site?.close();
});

describe('floe health --wait on a site that has no leader yet', () => {
  it('waits for a leader, exits 3 UNAVAILABLE while there is none, and reports ready once a majority elected one', async () => {
    const s = await InProcessSite.create({ ids: ['n1', 'n2', 'n3'], dirPrefix: 'floe-health-site-', debugEnv: 'DEBUG_HEALTH' });
    site = s;
    const peers = s.ids.map((_, i) => s.peer(i));
    const n1 = await s.start(0, peers);

    const alone = await floe(health, '--admin', n1.adminUrl, '--wait', '2');
    expect(alone.exit, alone.stdout).toBe(3);
    expect(alone.stderr).toMatch(/^UNAVAILABLE: n1 answers but knows no leader yet \([\w-]+, term \d+\) after 2 s: it serves once a majority of the members are up and connected/);
    const answered = await floe(health, '--admin', n1.adminUrl, '--without-leader');
    expect([answered.exit, answered.last]).toEqual([0, expect.stringMatching(/^n1: [\w-]+, leader none yet, term \d+, applied index \d+$/)]);

    // A second member starts while the probe waits: it reports ready once they elected a leader.
    const waiting = floe(health, '--admin', n1.adminUrl, '--wait', '60');
    await s.start(1, peers);
    const ready = await waiting;
    expect(ready.exit, ready.stderr).toBe(0);
    expect(ready.last).toMatch(/^n1: (leader|follower), leader n[12], term \d+, applied index \d+$/);
  }, 90_000);
});
