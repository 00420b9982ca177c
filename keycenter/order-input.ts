// The shape of an account and of an order as vendor staff send them: the JSON
// API's bodies and `floe keycenter order add --file`. The zod schemas check
// the shape; the rules (product names, dates, renewals) are checked by the
// service (accounts.ts, entitlement.ts), the same for every caller.
import { z } from 'zod';
import { BORROW_HOURS_MAX, licenseModelSchema } from '../protocol/index.ts';

/** A site number: the account's id, as every order of that site carries it. */
export const siteNumberSchema = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]*$/, 'letters, digits and dashes');

export const accountInputSchema = z
  .object({
    siteNumber: siteNumberSchema,
    companyName: z.string().min(1).max(120),
  })
  .strict();
export type AccountInput = z.infer<typeof accountInputSchema>;

/** "YYYY-MM-DD", a real calendar day. */
export const isoDaySchema = z.iso.date();

export const orderLineInputSchema = z
  .object({
    product: z.string().min(1).max(64),
    version: z.string().min(1).max(32),
    model: licenseModelSchema,
    /** Seats, or named users for the authorized-user model. */
    quantity: z.number().int().min(1).max(1_000_000),
    /** A bundle: one code per component. */
    components: z.array(z.string().min(1).max(64)).max(64).optional(),
    /** Temporary: the last day (UTC) the line's keys run. */
    expires: isoDaySchema.optional(),
    /** Temporary: days from the start (or from the order). */
    days: z.number().int().min(1).max(36_500).optional(),
    /** Keys are not in force before this day (UTC). */
    starts: isoDaySchema.optional(),
    /** The earlier line (of the same account) this one renews: a maintenance renewal. */
    renewsLineId: z.string().min(1).max(40).optional(),
    lingerSeconds: z.number().int().min(0).max(7 * 24 * 3600).optional(),
    hostsPerUserMax: z.number().int().min(1).max(64).optional(),
    /** Its keys' seats may be borrowed (taken offline); default false. */
    borrowAllowed: z.boolean().optional(),
    /** `h`: the longest borrow (default 168 when borrowing is allowed); giving it allows borrowing. */
    borrowHoursMax: z.number().int().min(1).max(BORROW_HOURS_MAX).optional(),
  })
  .strict();
export type OrderLineInput = z.infer<typeof orderLineInputSchema>;

export const orderContactInputSchema = z
  .object({
    email: z.string().min(3).max(254),
    name: z.string().min(1).max(120),
    /** The site's primary contact or its technical contact. */
    role: z.enum(['primary', 'technical']).default('primary'),
  })
  .strict();

/** Most contacts and lines of one order. */
export const ORDER_CONTACTS_MAX = 10;
export const ORDER_LINES_MAX = 100;

export const orderInputSchema = z
  .object({
    customerOrderNumber: z.string().min(1).max(64),
    purchaseOrderNumber: z.string().min(1).max(64).optional(),
    /** The order's day (UTC); default today. */
    orderedOn: isoDaySchema.optional(),
    contacts: z.array(orderContactInputSchema).min(1).max(ORDER_CONTACTS_MAX),
    lines: z.array(orderLineInputSchema).min(1).max(ORDER_LINES_MAX),
  })
  .strict();
export type OrderInput = z.input<typeof orderInputSchema>;

/** Midnight UTC starting the day "YYYY-MM-DD", ms since the Unix epoch. */
export function dayStartMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

/** The end of a license whose last day is "YYYY-MM-DD": the following midnight UTC, ms. */
export function lastDayEndMs(day: string): number {
  return dayStartMs(day) + 24 * 3600 * 1000;
}

/** The first problem of a zod parse as one sentence with its path. */
export function firstIssue(error: z.ZodError): { message: string; field: string } {
  const issue = error.issues[0];
  const field = issue?.path.join('.') ?? '';
  return { message: `${field === '' ? 'the body' : field}: ${issue?.message ?? 'invalid'}`, field };
}
