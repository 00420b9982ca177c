// The contract every KeyCenterStore implementation passes: what the rules of
// the key center rely on (unique constraints that fail into StoreConflictError,
// conditional updates that succeed once, rollback of a failed transaction,
// fixed-window counters, exclusive mail claims). Run it against each dialect:
//   storeContract('sqlite', async () => ({ store, cleanup }))
import { afterEach, describe, expect, it } from 'vitest';
import {
  StoreConflictError,
  type EntitlementRecord,
  type KeyCenterStore,
  type LicenseKeyRecord,
  type MailRecord,
  type OrderLineRecord,
  type OrderRecord,
  type OwnedFilter,
  type UserRecord,
} from './key-center-store.ts';

/** A fresh, empty store and how to dispose of it. */
export type OpenStore = () => Promise<{ store: KeyCenterStore; cleanup: () => Promise<void> }>;

const t0 = Date.UTC(2026, 0, 15);

export const user = (n: number): UserRecord => ({ userId: `USR-${n}`, email: `u${n}@example.com`, name: `User ${n}`, passwordHash: null, createdAt: t0, passwordChangedAt: null });

export const order = (n: number, siteNumber = 'S1'): OrderRecord => ({
  orderId: `ORD-${n}`,
  siteNumber,
  customerOrderNumber: `CO-${n}`,
  purchaseOrderNumber: n % 2 === 0 ? `PO-${n}` : null,
  contacts: [{ email: 'u1@example.com', name: 'User 1', role: 'primary' }],
  orderedAt: t0 + n,
  createdBy: 'cli',
});

export const line = (n: number, orderId: string, siteNumber = 'S1'): OrderLineRecord => ({
  lineId: `LN-${n}`,
  orderId,
  siteNumber,
  lineNo: n,
  product: 'stats',
  version: '29',
  model: 'concurrent',
  quantity: 10,
  components: n === 2 ? ['a', 'b'] : [],
  startsAt: null,
  expiresAt: null,
  renewsLineId: null,
  lingerSeconds: 0,
  hostsPerUserMax: 1,
  borrowHoursMax: null,
});

export const code = (authCode: string, over: Partial<EntitlementRecord> = {}): EntitlementRecord => ({
  authCode,
  product: 'stats',
  component: null,
  version: '29',
  model: 'concurrent',
  seats: 10,
  startsAt: null,
  expiresAt: null,
  lingerSeconds: 0,
  hostsPerUserMax: 1,
  borrowHoursMax: null,
  orderNumber: null,
  comment: null,
  createdAt: t0,
  siteNumber: null,
  orderId: null,
  lineId: null,
  allocationId: null,
  activationsMax: 1,
  ...over,
});

export const key = (licenseId: string, authCode: string, over: Partial<LicenseKeyRecord> = {}): LicenseKeyRecord => ({
  licenseId,
  authCode,
  lockCodes: ['L1'],
  hostDescription: null,
  seats: 10,
  keyText: `FLOE1.${licenseId}`,
  issuedAt: t0,
  activationNo: 1,
  seatsFromCode: 10,
  supersedes: null,
  siteNumber: null,
  comment: null,
  issuedBy: 'cli',
  ...over,
});

const mail = (mailId: string, createdAt: number): MailRecord => ({
  mailId,
  createdAt,
  to: 'u1@example.com',
  subject: `mail ${mailId}`,
  text: 'hello',
  html: null,
  attachments: [{ filename: 'a.license', content: 'FLOE1.x' }],
  status: 'pending',
  attempts: 0,
  nextAttemptAt: createdAt,
  claimedUntil: null,
  sentAt: null,
  lastError: null,
});

async function conflictOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return 'OK';
  } catch (error) {
    if (error instanceof StoreConflictError) return 'CONFLICT';
    throw error;
  }
}

/** Registers the contract's tests for one implementation. */
export function storeContract(dialect: string, open: OpenStore): void {
  describe(`KeyCenterStore contract (${dialect})`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0)) await c();
    });
    async function fresh(): Promise<KeyCenterStore> {
      const { store, cleanup } = await open();
      cleanups.push(cleanup);
      await store.transaction(async (q) => {
        await q.insertAccount({ siteNumber: 'S1', companyName: 'One', createdAt: t0 });
        await q.insertAccount({ siteNumber: 'S2', companyName: 'Two', createdAt: t0 });
      });
      return store;
    }

    it('a failed transaction leaves nothing behind', async () => {
      const store = await fresh();
      await expect(
        store.transaction(async (q) => {
          await q.insertUser(user(1));
          throw new Error('rule refused');
        }),
      ).rejects.toThrow('rule refused');
      expect(await store.read((q) => q.userByEmail('u1@example.com'))).toBeUndefined();
    });

    it('a second account, user e-mail, order number or staff name is a StoreConflictError', async () => {
      const store = await fresh();
      await store.transaction(async (q) => {
        await q.insertUser(user(1));
        await q.insertOrder(order(1), [line(1, 'ORD-1')]);
        await q.insertStaff({ name: 'ann', tokenSha256: 'h1', createdAt: t0 });
      });
      expect(await conflictOf(() => store.transaction((q) => q.insertAccount({ siteNumber: 'S1', companyName: 'x', createdAt: t0 })))).toBe('CONFLICT');
      expect(await conflictOf(() => store.transaction((q) => q.insertUser({ ...user(2), email: 'u1@example.com' })))).toBe('CONFLICT');
      expect(await conflictOf(() => store.transaction((q) => q.insertOrder({ ...order(2), customerOrderNumber: 'CO-1' }, [])))).toBe('CONFLICT');
      expect(await conflictOf(() => store.transaction((q) => q.insertOrder({ ...order(3, 'S2'), customerOrderNumber: 'CO-1' }, [])))).toBe('OK');
      expect(await conflictOf(() => store.transaction((q) => q.insertStaff({ name: 'ann', tokenSha256: 'h2', createdAt: t0 })))).toBe('CONFLICT');
    });

    it('members: added once, listed with their e-mail, memberships with the company', async () => {
      const store = await fresh();
      await store.transaction(async (q) => {
        await q.insertUser(user(1));
        expect(await q.insertMember({ siteNumber: 'S1', userId: 'USR-1', role: 'admin', addedAt: t0, addedBy: 'order' })).toBe(true);
        expect(await q.insertMember({ siteNumber: 'S1', userId: 'USR-1', role: 'member', addedAt: t0, addedBy: 'x' })).toBe(false);
        await q.insertMember({ siteNumber: 'S2', userId: 'USR-1', role: 'member', addedAt: t0, addedBy: 'x' });
        await q.insertUser(user(2));
        await q.insertMember({ siteNumber: 'S1', userId: 'USR-2', role: 'member', addedAt: t0, addedBy: 'x' });
        expect(await q.deleteMember('S1', 'USR-2')).toBe(true);
        expect(await q.deleteMember('S1', 'USR-2')).toBe(false);
      });
      expect(await store.read((q) => q.membersOf('S1'))).toMatchObject([{ email: 'u1@example.com', role: 'admin' }]);
      expect((await store.read((q) => q.membershipsOf('USR-1'))).map((m) => [m.siteNumber, m.companyName])).toEqual([
        ['S1', 'One'],
        ['S2', 'Two'],
      ]);
    });

    it('orders come newest first with their contacts; lines by order then number', async () => {
      const store = await fresh();
      await store.transaction(async (q) => {
        await q.insertOrder(order(1), [line(1, 'ORD-1'), line(2, 'ORD-1')]);
        await q.insertOrder(order(2), [line(3, 'ORD-2')]);
      });
      expect((await store.read((q) => q.ordersOf('S1'))).map((o) => o.orderId)).toEqual(['ORD-2', 'ORD-1']);
      expect((await store.read((q) => q.order('ORD-1')))?.contacts).toEqual(order(1).contacts);
      expect((await store.read((q) => q.lines({ siteNumber: 'S1' }))).map((l) => l.lineId)).toEqual(['LN-1', 'LN-2', 'LN-3']);
      expect((await store.read((q) => q.line('LN-2')))?.components).toEqual(['a', 'b']);
      expect(await store.read((q) => q.ordersOf('S2'))).toEqual([]);
    });

    it("a line's allocation number is taken once", async () => {
      const store = await fresh();
      await store.transaction((q) => q.insertOrder(order(1), [line(1, 'ORD-1')]));
      const allocation = { allocationId: 'AL-1', lineId: 'LN-1', allocationNo: 1, seats: 4, expiresAt: null, createdAt: t0, createdBy: 'x' };
      await store.transaction((q) => q.insertAllocation(allocation));
      expect(await conflictOf(() => store.transaction((q) => q.insertAllocation({ ...allocation, allocationId: 'AL-2' })))).toBe('CONFLICT');
      expect(await store.read((q) => q.allocationsOf('LN-1'))).toEqual([allocation]);
    });

    it("a code's activation number is taken once, a key superseded once, and rehosts (no number) are many", async () => {
      const store = await fresh();
      await store.transaction(async (q) => {
        await q.insertEntitlements([code('C1'), code('C2')]);
        await q.insertKey(key('K1', 'C1'));
      });
      expect(await conflictOf(() => store.transaction((q) => q.insertKey(key('K2', 'C1'))))).toBe('CONFLICT');
      expect(await conflictOf(() => store.transaction((q) => q.insertKey(key('K2', 'C2'))))).toBe('OK');
      await store.transaction((q) => q.insertKey(key('K3', 'C1', { activationNo: null, supersedes: 'K1', seatsFromCode: 0 })));
      expect(await conflictOf(() => store.transaction((q) => q.insertKey(key('K4', 'C1', { activationNo: null, supersedes: 'K1' }))))).toBe('CONFLICT');
      await store.transaction((q) => q.insertKey(key('K5', 'C1', { activationNo: null, supersedes: 'K3', lockCodes: ['L7', 'L8', 'L9'] })));
      expect((await store.read((q) => q.successorOf('K1')))?.licenseId).toBe('K3');
      expect((await store.read((q) => q.successorOf('K5')))).toBeUndefined();
      expect((await store.read((q) => q.key('K5')))?.lockCodes).toEqual(['L7', 'L8', 'L9']);
      expect((await store.read((q) => q.keys({ authCode: 'C1' }))).map((k) => k.licenseId)).toEqual(['K1', 'K3', 'K5']);
    });

    it("keys filter by their code's account, order and line", async () => {
      const store = await fresh();
      await store.transaction(async (q) => {
        await q.insertOrder(order(1), [line(1, 'ORD-1'), line(2, 'ORD-1')]);
        await q.insertEntitlements([
          code('C1', { siteNumber: 'S1', orderId: 'ORD-1', lineId: 'LN-1' }),
          code('C2', { siteNumber: 'S1', orderId: 'ORD-1', lineId: 'LN-2' }),
          code('C3', { siteNumber: 'S2' }),
          code('C4'),
        ]);
        await q.insertKey(key('K1', 'C1', { siteNumber: 'S1' }));
        await q.insertKey(key('K2', 'C2', { siteNumber: 'S1' }));
        await q.insertKey(key('K3', 'C3', { siteNumber: 'S2' }));
        await q.insertKey(key('K4', 'C4'));
      });
      const ids = async (filter: OwnedFilter) => (await store.read((q) => q.keys(filter))).map((k) => k.licenseId);
      expect(await ids({ siteNumber: 'S1' })).toEqual(['K1', 'K2']);
      expect(await ids({ lineId: 'LN-2' })).toEqual(['K2']);
      expect(await ids({ orderId: 'ORD-1' })).toEqual(['K1', 'K2']);
      expect(await ids({})).toEqual(['K1', 'K2', 'K3', 'K4']);
      expect((await store.read((q) => q.entitlements({ siteNumber: 'S2' }))).map((e) => e.authCode)).toEqual(['C3']);
      await store.transaction((q) => q.setActivationsMax('C1', 3));
      expect((await store.read((q) => q.entitlement('C1')))?.activationsMax).toBe(3);
    });

    it("a code's lock makes a second writer wait, then read what the first wrote", async () => {
      const store = await fresh();
      await store.transaction(async (q) => {
        await q.insertEntitlements([code('C1')]);
        await q.insertOrder(order(1), [line(1, 'ORD-1')]);
      });
      let locked!: () => void;
      const firstLocked = new Promise<void>((r) => (locked = r));
      const first = store.transaction(async (q) => {
        await q.lockEntitlement('C1');
        await q.lockLine('LN-1');
        locked();
        // Time for the second writer to reach its lock before this one writes.
        await new Promise((r) => setTimeout(r, 100));
        await q.insertKey(key('K1', 'C1'));
      });
      await firstLocked;
      const second = store.transaction(async (q) => {
        await q.lockEntitlement('C1');
        await q.lockLine('LN-1');
        return (await q.keys({ authCode: 'C1' })).map((k) => k.licenseId);
      });
      await first;
      expect(await second).toEqual(['K1']);
    });

    it('a one-time token is used once, and not after it expires', async () => {
      const store = await fresh();
      await store.transaction(async (q) => {
        await q.insertUser(user(1));
        await q.insertUserToken({ tokenSha256: 'T1', userId: 'USR-1', purpose: 'set-password', createdAt: t0, expiresAt: t0 + 1000, usedAt: null });
        await q.insertUserToken({ tokenSha256: 'T2', userId: 'USR-1', purpose: 'reset-password', createdAt: t0, expiresAt: t0 + 1000, usedAt: null });
      });
      expect(await store.transaction((q) => q.useUserToken('T1', 'reset-password', t0))).toBeUndefined();
      expect((await store.transaction((q) => q.useUserToken('T1', 'set-password', t0)))?.userId).toBe('USR-1');
      expect(await store.transaction((q) => q.useUserToken('T1', 'set-password', t0))).toBeUndefined();
      expect(await store.transaction((q) => q.useUserToken('T2', 'reset-password', t0 + 1000))).toBeUndefined();
      expect((await store.read((q) => q.userToken('T1')))?.usedAt).toBe(t0);
    });

    it('a join request is decided once, and only in its own account', async () => {
      const store = await fresh();
      const request = { requestId: 'JR-1', siteNumber: 'S1', email: 'x@example.com', name: 'X', orderNumber: 'CO-1', status: 'pending', createdAt: t0, decidedAt: null, decidedBy: null } as const;
      await store.transaction((q) => q.insertJoinRequest(request));
      expect(await store.transaction((q) => q.decideJoinRequest('JR-1', 'S2', 'approved', 'a', t0))).toBe(false);
      expect(await store.transaction((q) => q.decideJoinRequest('JR-1', 'S1', 'approved', 'a', t0))).toBe(true);
      expect(await store.transaction((q) => q.decideJoinRequest('JR-1', 'S1', 'declined', 'b', t0))).toBe(false);
      expect(await store.read((q) => q.joinRequest('JR-1'))).toMatchObject({ status: 'approved', decidedBy: 'a' });
      expect(await store.read((q) => q.joinRequestsOf('S1', 'pending'))).toEqual([]);
    });

    it('sessions: found until deleted; a user signed out everywhere but one', async () => {
      const store = await fresh();
      await store.transaction(async (q) => {
        await q.insertUser(user(1));
        for (const id of ['A', 'B', 'C']) await q.insertSession({ idSha256: id, userId: 'USR-1', siteNumber: null, createdAt: t0, expiresAt: id === 'C' ? t0 : t0 + 1000 });
        await q.setSessionAccount('A', 'S1');
      });
      expect((await store.read((q) => q.session('A')))?.siteNumber).toBe('S1');
      expect(await store.transaction((q) => q.deleteExpiredSessions(t0))).toBe(1);
      await store.transaction((q) => q.deleteSessionsOf('USR-1', 'B'));
      expect(await store.read((q) => q.session('A'))).toBeUndefined();
      expect(await store.read((q) => q.session('B'))).toBeDefined();
      await store.transaction((q) => q.deleteSession('B'));
      expect(await store.read((q) => q.session('B'))).toBeUndefined();
    });

    it('countHit counts hits per bucket within a fixed window and starts over in the next', async () => {
      const store = await fresh();
      const hit = (bucket: string, nowMs: number) => store.transaction((q) => q.countHit(bucket, 60_000, nowMs));
      expect(await hit('a', t0)).toBe(1);
      expect(await hit('a', t0 + 10)).toBe(2);
      expect(await hit('b', t0 + 10)).toBe(1);
      expect(await hit('a', t0 + 60_000)).toBe(1);
      expect(await store.transaction((q) => q.deleteStaleRateLimits(t0 + 60_000))).toBe(1);
    });

    it('a due mail is claimed by one sender until its claim lapses; sent and failed ones are not claimed again', async () => {
      const store = await fresh();
      await store.transaction(async (q) => {
        await q.insertMail(mail('M1', t0));
        await q.insertMail(mail('M2', t0 + 1));
        await q.insertMail({ ...mail('M3', t0 + 2), nextAttemptAt: t0 + 5000 });
      });
      const first = await store.transaction((q) => q.claimDueMail(t0 + 10, t0 + 1000, 10));
      expect(first.map((m) => m.mailId)).toEqual(['M1', 'M2']);
      expect(first[0]?.attachments).toEqual([{ filename: 'a.license', content: 'FLOE1.x' }]);
      expect(await store.transaction((q) => q.claimDueMail(t0 + 20, t0 + 1000, 10))).toEqual([]);
      await store.transaction(async (q) => {
        await q.markMailSent('M1', t0 + 30);
        await q.markMailAttemptFailed('M2', 'refused', t0 + 2000, false);
      });
      const later = await store.transaction((q) => q.claimDueMail(t0 + 6000, t0 + 7000, 10));
      expect(later.map((m) => [m.mailId, m.attempts])).toEqual([
        ['M2', 1],
        ['M3', 0],
      ]);
      await store.transaction((q) => q.markMailAttemptFailed('M2', 'refused', t0, true));
      expect(await store.transaction((q) => q.claimDueMail(t0 + 99_000, t0 + 100_000, 10))).toMatchObject([{ mailId: 'M3' }]);
      expect((await store.read((q) => q.mails(10))).map((m) => [m.mailId, m.status])).toEqual([
        ['M3', 'pending'],
        ['M2', 'failed'],
        ['M1', 'sent'],
      ]);
    });

    it('a setting keeps the first value written', async () => {
      const store = await fresh();
      expect(await store.transaction((q) => q.settingOrInsert('secret', 'first'))).toBe('first');
      expect(await store.transaction((q) => q.settingOrInsert('secret', 'second'))).toBe('first');
    });

    it('the audit trail lists newest first, by account', async () => {
      const store = await fresh();
      await store.transaction(async (q) => {
        await q.insertAudit({ at: t0, actor: 'cli', action: 'a', siteNumber: 'S1', target: null, detail: { n: 1 } });
        await q.insertAudit({ at: t0, actor: 'cli', action: 'b', siteNumber: 'S2', target: 'x', detail: {} });
        await q.insertAudit({ at: t0, actor: 'cli', action: 'c', siteNumber: 'S1', target: null, detail: {} });
      });
      expect((await store.read((q) => q.audit({ siteNumber: 'S1', limit: 10 }))).map((a) => a.action)).toEqual(['c', 'a']);
      expect(await store.read((q) => q.audit({ limit: 1 }))).toMatchObject([{ action: 'c' }]);
      expect((await store.read((q) => q.audit({ limit: 10 }))).at(-1)?.detail).toEqual({ n: 1 });
    });
  });
}
