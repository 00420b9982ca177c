// "My authorization codes": a customer turns the seats of an order line into
// authorization codes, as many at a time as they need. Per line: seats
// entitled, issued (in codes) and remaining. An authorized-user line gives
// one code covering N users, or one code per user; a bundle gives one code per
// component; a temporary code (from a perpetual line too — a contractor, a
// short project) gives its seats back to the line when it ends.
import { newAuthCode } from './auth-code.ts';
import { atomically } from './atomically.ts';
import { recordAudit } from './audit-trail.ts';
import { seatsActivatedByCode, type Entitlement } from './entitlement.ts';
import { newId } from './ids.ts';
import { bad, integerIn, optionalText } from './input-checks.ts';
import type { AccountScope, KeyCenterContext } from './key-center-context.ts';
import { memberActor } from './key-center-context.ts';
import { KeyCenterError } from './key-center-error.ts';
import type { AllocationRecord, EntitlementRecord, OrderLineRecord, OrderRecord, StoreQueries } from './store/key-center-store.ts';

/** Most codes one "generate" creates (codes per user × bundle components). */
export const CODES_PER_GENERATION_MAX = 500;
/** Longest comment on generated codes, characters. */
export const CODE_COMMENT_CHARS_MAX = 500;

/** One order line with how much of it is in codes, and those codes. */
export interface LineSummary {
  readonly line: OrderLineRecord;
  readonly order: Pick<OrderRecord, 'orderId' | 'customerOrderNumber' | 'purchaseOrderNumber' | 'orderedAt'>;
  /** The line this one renews (a maintenance renewal), with its order number. */
  readonly renews: { readonly lineId: string; readonly lineNo: number; readonly customerOrderNumber: string; readonly product: string; readonly version: string } | null;
  readonly seatsEntitled: number;
  /** Seats in codes that still count: perpetual ones, and temporary ones not yet ended. */
  readonly seatsIssued: number;
  readonly seatsRemaining: number;
  /** A temporary line past its end: no more codes. */
  readonly expired: boolean;
  /** Codes generated from the line, oldest first. */
  readonly codes: Entitlement[];
}

/** How to generate codes from a line. */
export interface GenerateRequest {
  readonly lineId: string;
  readonly seats: number;
  /** Authorized-user lines: one code covering all `seats` users, or one code per user. Default "one-code". */
  readonly split?: 'one-code' | 'per-user' | undefined;
  /** A temporary code: its end, ms since the Unix epoch (no later than the line's own end). */
  readonly expiresAt?: number | undefined;
  readonly comment?: string | undefined;
}

function seatsInUse(allocations: readonly AllocationRecord[], nowMs: number): number {
  return allocations.filter((a) => a.expiresAt === null || a.expiresAt > nowMs).reduce((sum, a) => sum + a.seats, 0);
}

async function summarize(q: StoreQueries, line: OrderLineRecord, orders: ReadonlyMap<string, OrderRecord>, nowMs: number): Promise<LineSummary> {
  const order = orders.get(line.orderId) ?? (await q.order(line.orderId));
  if (order === undefined) throw new Error(`assert: line ${line.lineId} has no order`);
  const allocations = await q.allocationsOf(line.lineId);
  const codes = await q.entitlements({ lineId: line.lineId });
  const activated = seatsActivatedByCode(await q.keys({ lineId: line.lineId }));
  let renews: LineSummary['renews'] = null;
  if (line.renewsLineId !== null) {
    const renewed = await q.line(line.renewsLineId);
    const renewedOrder = renewed === undefined ? undefined : (orders.get(renewed.orderId) ?? (await q.order(renewed.orderId)));
    if (renewed !== undefined && renewedOrder !== undefined) {
      renews = { lineId: renewed.lineId, lineNo: renewed.lineNo, customerOrderNumber: renewedOrder.customerOrderNumber, product: renewed.product, version: renewed.version };
    }
  }
  const seatsIssued = seatsInUse(allocations, nowMs);
  return {
    line,
    order: { orderId: order.orderId, customerOrderNumber: order.customerOrderNumber, purchaseOrderNumber: order.purchaseOrderNumber, orderedAt: order.orderedAt },
    renews,
    seatsEntitled: line.quantity,
    seatsIssued,
    seatsRemaining: Math.max(0, line.quantity - seatsIssued),
    expired: line.expiresAt !== null && line.expiresAt <= nowMs,
    codes: codes.map((e) => ({ ...e, seatsActivated: activated.get(e.authCode) ?? 0 })),
  };
}

/** Every line of the account's orders (oldest order first), with its codes. */
export async function lineSummaries(ctx: KeyCenterContext, siteNumber: string): Promise<LineSummary[]> {
  const nowMs = ctx.clock();
  return ctx.store.read(async (q) => {
    const orders = new Map((await q.ordersOf(siteNumber)).map((o) => [o.orderId, o]));
    const summaries: LineSummary[] = [];
    for (const line of await q.lines({ siteNumber })) summaries.push(await summarize(q, line, orders, nowMs));
    return summaries;
  });
}

/** One line of the account; NOT_FOUND for a line of any other account. */
export async function lineSummary(ctx: KeyCenterContext, siteNumber: string, lineId: string): Promise<LineSummary> {
  const nowMs = ctx.clock();
  return ctx.store.read(async (q) => {
    const line = await q.line(lineId);
    if (line === undefined || line.siteNumber !== siteNumber) throw new KeyCenterError('NOT_FOUND', `there is no product line ${lineId} in this account`, 'lineId');
    return summarize(q, line, new Map(), nowMs);
  });
}

/** One code of the account with its activated seats; NOT_FOUND for a code of any other account. */
export async function codeOf(ctx: KeyCenterContext, siteNumber: string, authCode: string): Promise<Entitlement> {
  return ctx.store.read(async (q) => {
    const e = await q.entitlement(authCode);
    if (e === undefined || e.siteNumber !== siteNumber) throw new KeyCenterError('NOT_FOUND', `there is no authorization code ${authCode} in this account`, 'authCode');
    return { ...e, seatsActivated: seatsActivatedByCode(await q.keys({ authCode })).get(authCode) ?? 0 };
  });
}

/** Generates authorization codes from the seats left on a line of the member's account. */
export async function generateCodes(ctx: KeyCenterContext, scope: AccountScope, request: GenerateRequest): Promise<Entitlement[]> {
  const nowMs = ctx.clock();
  const comment = optionalText(request.comment, 'comment', CODE_COMMENT_CHARS_MAX, 'comment');
  const split = request.split ?? 'one-code';
  return atomically(ctx.store, async (q) => {
    // Codes of one line queue here (on PostgreSQL) instead of racing to the unique allocation number.
    await q.lockLine(request.lineId);
    const line = await q.line(request.lineId);
    if (line === undefined || line.siteNumber !== scope.siteNumber) throw new KeyCenterError('NOT_FOUND', `there is no product line ${request.lineId} in this account`, 'lineId');
    if (line.expiresAt !== null && line.expiresAt <= nowMs) {
      throw new KeyCenterError('ENTITLEMENT_EXPIRED', `line ${line.lineNo} (${line.product} ${line.version}) ended ${new Date(line.expiresAt).toISOString().slice(0, 10)}`, 'lineId');
    }
    const allocations = await q.allocationsOf(line.lineId);
    const remaining = line.quantity - seatsInUse(allocations, nowMs);
    if (remaining <= 0) throw new KeyCenterError('SEATS_EXHAUSTED', `all ${line.quantity} seats of ${line.product} ${line.version} are in authorization codes already`, 'seats');
    const seats = integerIn(request.seats, 1, remaining, 'seats', 'seats');
    if (split === 'per-user' && line.model !== 'authorized-user') throw bad('one code per user is for authorized-user lines', 'split');
    const units = split === 'per-user' ? Array.from({ length: seats }, () => 1) : [seats];
    const components = line.components.length === 0 ? [null] : line.components;
    if (units.length * components.length > CODES_PER_GENERATION_MAX) throw bad(`at most ${CODES_PER_GENERATION_MAX} codes at once`, 'seats');
    let expiresAt = line.expiresAt;
    if (request.expiresAt !== undefined) {
      if (request.expiresAt <= nowMs) throw bad('the end date of a temporary code must be in the future', 'expiresAt');
      if (line.expiresAt !== null && request.expiresAt > line.expiresAt) {
        throw bad(`the line itself ends ${new Date(line.expiresAt).toISOString().slice(0, 10)}; a code cannot run longer`, 'expiresAt');
      }
      expiresAt = request.expiresAt;
    }
    const order = await q.order(line.orderId);
    const allocation: AllocationRecord = {
      allocationId: newId('AL'),
      lineId: line.lineId,
      allocationNo: allocations.reduce((max, a) => Math.max(max, a.allocationNo), 0) + 1,
      seats,
      expiresAt,
      createdAt: nowMs,
      createdBy: memberActor(scope),
    };
    await q.insertAllocation(allocation);
    const rows: EntitlementRecord[] = units.flatMap((unitSeats) =>
      components.map((component) => ({
        authCode: newAuthCode(),
        product: line.product,
        component,
        version: line.version,
        model: line.model,
        seats: unitSeats,
        startsAt: line.startsAt,
        expiresAt,
        lingerSeconds: line.lingerSeconds,
        hostsPerUserMax: line.hostsPerUserMax,
        borrowHoursMax: line.borrowHoursMax,
        orderNumber: order?.customerOrderNumber ?? null,
        comment,
        createdAt: nowMs,
        siteNumber: line.siteNumber,
        orderId: line.orderId,
        lineId: line.lineId,
        allocationId: allocation.allocationId,
        activationsMax: 1,
      })),
    );
    await q.insertEntitlements(rows);
    await recordAudit(q, nowMs, memberActor(scope), 'generate-codes', { siteNumber: line.siteNumber, target: line.lineId }, { seats, codes: rows.length, split, expiresAt });
    return rows.map((r) => ({ ...r, seatsActivated: 0 }));
  });
}
