// Finding 1 of issue 11 on a real daemon: hostile client frames that used to
// kill the process (the `null` frame; a 16 KB frame of 8,000 nested arrays
// that overflowed JSON.stringify) are answered BAD_REQUEST, and the node,
// that connection and every other connection carry on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRAME_BYTES_MAX } from '../../protocol/index.ts';
import { startTestDaemon, WireClient, type TestDaemon } from './test-daemon.test-support.ts';

let daemon: TestDaemon;
const clients: WireClient[] = [];

beforeAll(async () => {
  daemon = await startTestDaemon();
  await daemon.installDemoLicense(2);
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await daemon.destroy();
});

async function connect(): Promise<WireClient> {
  const c = await WireClient.connect(daemon.clientUrl);
  clients.push(c);
  return c;
}

describe('finding 1 (issue 11): untrusted client frames never take a node down', () => {
  it('the null frame and an 8,000-level nested frame get BAD_REQUEST, and the node keeps serving that connection and others', async () => {
    const bystander = await connect();
    expect(await bystander.hello('client-bystander-1')).toMatchObject({ ok: true });
    const attacker = await connect();
    const deep = `{"id":5,"type":${'['.repeat(8000)}${']'.repeat(8000)}}`;
    expect(Buffer.byteLength(deep)).toBeLessThanOrEqual(FRAME_BYTES_MAX);
    const hostile = ['null', deep, '[]', '"hello"', '1e999', '{"__proto__":{"type":"status"}}', `{"id":6,"type":{"a":${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}}}`];
    for (const frame of hostile) attacker.sendRaw(frame);
    await expect.poll(() => attacker.orphanReplies.length, { timeout: 5_000 }).toBe(hostile.length);
    // Each is refused; the nested ones are answered to their ids, the rest (no readable id) to id 0.
    expect(attacker.orphanReplies.every((f) => f.ok === false && f.error.code === 'BAD_REQUEST')).toBe(true);
    expect(attacker.orphanReplies.map((f) => f.id).sort()).toEqual([0, 0, 0, 0, 0, 5, 6]);
    expect(attacker.closeCode).toBeUndefined();
    // The same connection and the bystander still work.
    expect(await attacker.hello('client-attacker-1')).toMatchObject({ ok: true });
    expect(await attacker.checkout('req-after-hostile-1')).toMatchObject({ ok: true, queued: false });
    expect(await bystander.checkout('req-bystander-1')).toMatchObject({ ok: true, queued: false });
    expect((await daemon.admin('GET', '/health', undefined, null)).status).toBe(200);
  });
});
