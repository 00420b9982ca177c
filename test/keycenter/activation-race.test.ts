// Two key-center processes over one PostgreSQL database, the same activations
// fired at both at the same moment: the rules hold across instances. A
// concurrent code yields one key (the other instance answers
// ALREADY_ACTIVATED, or the same key for the same lock codes); an
// authorized-user code never issues more named users than it covers.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveLockCode } from '../../protocol/index.ts';
import { addOrder, createAccount, KeyCenter, initKeyCenter, setMemberPassword, signIn, signOut } from '../../keycenter/index.ts';
import { postgresSkipReason, usePostgres } from '../../keycenter/store/postgres-store.test-support.ts';
import { startKeyCenterProcess, type KeyCenterProcess } from './key-center-process.test-support.ts';

/** Concurrent codes, each fired at both instances at once. */
const RACES = 200;
/** Codes raced at a time (two requests each). */
const RACES_IN_FLIGHT = 20;
/** Authorized-user codes, each covering USERS_PER_CODE named users, asked for one user at a time by ASKS_PER_CODE requests. */
const USER_CODES = 10;
const USERS_PER_CODE = 5;
const ASKS_PER_CODE = 8;

const pg = usePostgres();
const newLock = () => deriveLockCode({ machineId: 'race', macs: [], hostname: 'h' }, randomBytes(32));

interface Answer {
  readonly status: number;
  readonly licenseId?: string;
  readonly key?: string;
  readonly error?: { code: string; message: string };
}

describe.skipIf(postgresSkipReason !== undefined)('two key centers over one PostgreSQL database', () => {
  let root: string;
  let instances: KeyCenterProcess[] = [];
  let databaseUrl: string;
  let concurrentCodes: string[];
  let userCodes: string[];

  beforeAll(async () => {
    root = mkdtempSync(join(os.tmpdir(), 'floe-kc-race-'));
    const dir = join(root, 'kc');
    databaseUrl = await pg.freshDatabaseUrl();
    initKeyCenter(dir, { withSqliteStore: false });
    const kc = await KeyCenter.open(dir, { databaseUrl });
    try {
      const codes = async (count: number, model: 'concurrent' | 'authorized-user', seats: number) =>
        (await Promise.all(Array.from({ length: count }, () => kc.entitle({ product: 'stats', version: '29', model, seats })))).map((e) => e[0]!.authCode);
      concurrentCodes = await codes(RACES, 'concurrent', 5);
      userCodes = await codes(USER_CODES, 'authorized-user', USERS_PER_CODE);
    } finally {
      await kc.close();
    }
    instances = await Promise.all([0, 1].map(() => startKeyCenterProcess(dir, ['--database', databaseUrl, '--trust-proxy'])));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(instances.map((p) => p.stop()));
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  }, 30_000);

  /** POST /api/v1/activations at `instance`, as the customer server at `address` (behind the reverse proxy). */
  async function activate(instance: KeyCenterProcess, address: string, body: object): Promise<Answer> {
    const response = await fetch(`${instance.url}/api/v1/activations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
      body: JSON.stringify(body),
    });
    return { status: response.status, ...((await response.json()) as object) };
  }

  it('a concurrent code fired at both instances at once 200 times: one key each time, the other ALREADY_ACTIVATED or the same key', async () => {
    const [a, b] = instances as [KeyCenterProcess, KeyCenterProcess];
    const outcomes: string[] = [];
    for (let start = 0; start < RACES; start += RACES_IN_FLIGHT) {
      await Promise.all(
        concurrentCodes.slice(start, start + RACES_IN_FLIGHT).map(async (authCode, j) => {
          const i = start + j;
          // Every fourth race is a retry of one server's request (same lock codes): both answers are its one key.
          const sameServer = i % 4 === 0;
          const lockA = newLock();
          const lockB = sameServer ? lockA : newLock();
          const [x, y] = await Promise.all([
            activate(a, `10.0.${i >> 8}.${i & 255}`, { authCode, lockCodes: [lockA] }),
            activate(b, `10.1.${i >> 8}.${i & 255}`, { authCode, lockCodes: [lockB] }),
          ]);
          const answers = [x, y].sort((p, q) => p.status - q.status);
          if (sameServer) {
            expect(answers.map((r) => r.status), authCode).toEqual([201, 201]);
            expect(answers[0]!.key, authCode).toBe(answers[1]!.key);
          } else {
            expect([answers[0]!.status, answers[1]!.status, answers[1]!.error?.code], authCode).toEqual([201, 409, 'ALREADY_ACTIVATED']);
            expect(answers[1]!.error?.message, authCode).toContain(answers[0]!.licenseId);
          }
          outcomes.push(sameServer ? 'same-key' : 'one-refused');
        }),
      );
    }
    expect(outcomes).toHaveLength(RACES);
    // What the database holds, read by a third party: one key per concurrent code.
    const kc = await KeyCenter.open(join(root, 'kc'), { databaseUrl });
    try {
      const keys = await kc.listKeys();
      for (const authCode of concurrentCodes) expect(keys.filter((k) => k.authCode === authCode), authCode).toHaveLength(1);
    } finally {
      await kc.close();
    }
  }, 300_000);

  it('an authorized-user code asked for one user at a time by both instances at once never issues more users than it covers', async () => {
    const [a, b] = instances as [KeyCenterProcess, KeyCenterProcess];
    await Promise.all(
      userCodes.map(async (authCode, c) => {
        const answers = await Promise.all(
          Array.from({ length: ASKS_PER_CODE }, (_, n) => activate(n % 2 === 0 ? a : b, `10.2.${c}.${n}`, { authCode, lockCodes: [newLock()], seats: 1 })),
        );
        expect(answers.filter((r) => r.status === 201), authCode).toHaveLength(USERS_PER_CODE);
        expect(new Set(answers.filter((r) => r.status !== 201).map((r) => r.error?.code)), authCode).toEqual(new Set(['SEATS_EXHAUSTED']));
      }),
    );
    const kc = await KeyCenter.open(join(root, 'kc'), { databaseUrl });
    try {
      for (const e of await kc.listEntitlements()) if (e.model === 'authorized-user') expect(e.seatsActivated, e.authCode).toBe(USERS_PER_CODE);
    } finally {
      await kc.close();
    }
  }, 120_000);

  it('a member signed in through one instance is signed in on the other, and signed out of both at once', async () => {
    const [a, b] = instances as [KeyCenterProcess, KeyCenterProcess];
    const kc = await KeyCenter.open(join(root, 'kc'), { databaseUrl });
    try {
      await createAccount(kc.ctx, { siteNumber: '2000-0001', companyName: 'Shared Sessions Inc.' }, 'cli');
      await addOrder(kc.ctx, '2000-0001', { customerOrderNumber: 'CO-1', contacts: [{ email: 'ann@example.com', name: 'Ann', role: 'primary' }], lines: [{ product: 'stats', version: '29', model: 'concurrent', quantity: 1 }] }, 'cli');
      await setMemberPassword(kc.ctx, 'ann@example.com', 'correct horse battery', 'cli');
      const { sessionId, session } = await signIn(kc.ctx, { email: 'ann@example.com', password: 'correct horse battery', address: 'test' });
      const me = (instance: KeyCenterProcess) => fetch(`${instance.url}/api/v1/me`, { headers: { cookie: `floe_kc_session=${sessionId}` } });
      expect([(await me(a)).status, (await me(b)).status]).toEqual([200, 200]);
      await signOut(kc.ctx, session.idSha256);
      expect([(await me(a)).status, (await me(b)).status]).toEqual([401, 401]);
    } finally {
      await kc.close();
    }
  }, 60_000);
});
