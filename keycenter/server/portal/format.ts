// How the portal writes dates, seats and terms: one wording everywhere.
import type { LicenseModel } from '../../../protocol/index.ts';
import { describeBorrowPeriod } from '../../borrow-period.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "15 Jan 2026" (UTC). */
export function day(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/** The last day a license that ends at `expiresAt` (ms, midnight after it) runs. */
export function lastDay(expiresAt: number): string {
  return day(expiresAt - 1);
}

/** "Perpetual", or "Until 31 Dec 2026". */
export function term(expiresAt: number | null): string {
  return expiresAt === null ? 'Perpetual' : `Until ${lastDay(expiresAt)}`;
}

/** "Concurrent" / "Authorized user". */
export function modelName(model: LicenseModel): string {
  return model === 'concurrent' ? 'Concurrent' : 'Authorized user';
}

/** "10 seats" / "1 user". */
export function seats(n: number, model: LicenseModel): string {
  return model === 'concurrent' ? `${n} seat${n === 1 ? '' : 's'}` : `${n} user${n === 1 ? '' : 's'}`;
}

/** "stats 29" or "stats-premium 29 · amos". */
export function productName(product: string, version: string, component: string | null): string {
  return component === null ? `${product} ${version}` : `${product} ${version} · ${component}`;
}

/** "Borrowable up to 168 h (7 days)" / "Not borrowable"; `hours`: the longest borrow, null for none. */
export function borrowing(hours: number | null): string {
  const text = describeBorrowPeriod(hours);
  return `${text[0]!.toUpperCase()}${text.slice(1)}`;
}
