// GET /reports/usage: usage reports per interval and feature (and user, host
// or app), as JSON or CSV, paginated; a line for every interval, zeros where
// nothing happened, for the features of the pools installed and any with
// usage in the period. The numbers come from
// admin/reports/usage-report.ts, a pure function of the replicated usage
// rows, so a closed interval reads the same on every node.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AdminDeps } from '../admin-deps.ts';
import type { AdminEnv } from '../admin-env.ts';
import { BEARER_SECURITY, errorResponses, jsonResponse } from '../api-schemas.ts';
import { AdminError } from '../errors.ts';
import { readAnswer, readBarrier, readSchema, staleQuerySchema } from '../read-barrier.ts';
import { reportCsv, round3 } from '../reports/report-csv.ts';
import { reportInput } from '../reports/report-input.ts';
import { computeUsageReport, REPORT_INTERVALS_MAX, REPORT_LINES_MAX, ReportTooLargeError, type UsageReportQuery } from '../reports/usage-report.ts';
import { utilizationHistogram } from '../reports/utilization.ts';

/** Report lines one page holds by default, and at most. */
const REPORT_PAGE_DEFAULT = 1000;
export const REPORT_PAGE_MAX = 10_000;
/** `ms` a report covers when `from` is not given. */
const REPORT_SPAN_DEFAULT_MS = 7 * 86_400_000;

const timeSchema = z
  .string()
  .max(40)
  .regex(/^(\d{1,15}|\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?)$/)
  .openapi({ description: 'ISO 8601 date or time (a date alone is 00:00 UTC), or ms since the epoch', example: '2026-01-05' });

/** GET /reports/usage. */
export const usageReportQuerySchema = staleQuerySchema.extend({
  feature: z.string().max(64).optional(),
  from: timeSchema.optional().openapi({ description: 'inclusive; default: `to` minus 7 days' }),
  to: timeSchema.optional().openapi({ description: 'exclusive; default: now' }),
  interval: z.enum(['hour', 'day']).default('day').openapi({ description: 'UTC hours or days' }),
  by: z.enum(['user', 'host', 'app']).optional().openapi({ description: 'break each feature down by the users, hosts or applications holding its seats' }),
  format: z.enum(['json', 'csv']).default('json'),
  limit: z.coerce.number().int().min(1).max(REPORT_PAGE_MAX).optional().openapi({ description: `lines per page (default ${REPORT_PAGE_DEFAULT})` }),
  cursor: z.coerce.number().int().nonnegative().optional().openapi({ description: 'the previous page’s nextCursor' }),
});

/** One report line. */
export const usageReportLineSchema = z
  .object({
    start: z.string().openapi({ description: 'ISO 8601, UTC' }),
    end: z.string(),
    feature: z.string(),
    user: z.string().optional(),
    host: z.string().optional(),
    app: z.string().optional(),
    peakInUse: z.number().int().openapi({ description: 'most seats held at once' }),
    averageInUse: z.number().openapi({ description: 'seat-time over the interval (its elapsed part, if still open)' }),
    seatHours: z.number(),
    checkouts: z.number().int(),
    denials: z.number().int().openapi({ description: 'true denials: not followed within 5 minutes by a checkout of the feature by the same client' }),
    queueWaits: z.number().int(),
    queueWaitMsAvg: z.number().int(),
  })
  .openapi('UsageReportLine');

/** What GET /reports/usage answers as JSON. */
export const usageReportSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    interval: z.enum(['hour', 'day']),
    by: z.enum(['user', 'host', 'app']).nullable(),
    asOf: z.string().openapi({ description: 'the rows go up to here; an interval ending before it is closed and reads the same on every node' }),
    lines: z.array(usageReportLineSchema),
    total: z.number().int().openapi({ description: 'lines in the whole report' }),
    nextCursor: z.number().int().nullable(),
  })
  .openapi('UsageReport');

const getUsageReport = createRoute({
  method: 'get',
  path: '/reports/usage',
  summary: 'Usage per interval and feature: peak and average in use, seat-hours, checkouts, true denials, queue waits',
  description: `A line for every interval from \`from\` up to \`to\` (or up to now, for a period not over yet) and every feature installed or used in it (with \`by\`: every user, host or app with usage in it), zeros where nothing happened. A report of more than ${REPORT_LINES_MAX.toLocaleString('en-US')} lines or ${REPORT_INTERVALS_MAX.toLocaleString('en-US')} intervals is refused with 422 REPORT_TOO_LARGE: narrow the period, use days, or name a feature.`,
  security: BEARER_SECURITY,
  middleware: [readBarrier] as const,
  request: { query: usageReportQuerySchema },
  responses: {
    200: {
      description: 'a page of the report (CSV: the x-floe-next-cursor header names the next page)',
      content: { 'application/json': { schema: readSchema(usageReportSchema) }, 'text/csv': { schema: z.string() } },
    },
    ...errorResponses(400, 422, 503),
  },
});

/** GET /reports/utilization. */
export const utilizationQuerySchema = staleQuerySchema.extend({
  feature: z.string().min(1).max(64),
  from: timeSchema.optional().openapi({ description: 'inclusive; default: `to` minus 7 days' }),
  to: timeSchema.optional().openapi({ description: 'exclusive; default: now' }),
});

/** What GET /reports/utilization answers. */
export const utilizationSchema = z
  .object({
    feature: z.string(),
    from: z.string(),
    to: z.string(),
    asOf: z.string(),
    levels: z.array(
      z.object({
        seatsInUse: z.number().int(),
        hours: z.number(),
        share: z.number().openapi({ description: 'of the period (its elapsed part, if still open): 0 to 1' }),
      }),
    ),
  })
  .openapi('Utilization');

const getUtilization = createRoute({
  method: 'get',
  path: '/reports/utilization',
  summary: "For how much of a period exactly N seats of a feature were in use, for each N (how many seats do we need?)",
  security: BEARER_SECURITY,
  middleware: [readBarrier] as const,
  request: { query: utilizationQuerySchema },
  responses: { 200: jsonResponse(readSchema(utilizationSchema), 'the share of time at each level'), ...errorResponses(400, 503) },
});

/** `ms` of a time parameter, or a 400. */
function parseTime(name: string, text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (!Number.isFinite(ms)) throw new AdminError(400, 'BAD_REQUEST', `${name} is not a date, a time or ms since the epoch`);
  return ms;
}

/** The period of a report query, and the time its rows go up to (a lease without an end row is held until then). */
function periodOf(node: AdminDeps['node'], q: { from?: string | undefined; to?: string | undefined }) {
  const asOfMs = Math.max(Date.now(), node.poolState.nowMs);
  const toMs = q.to !== undefined ? parseTime('to', q.to) : asOfMs;
  const fromMs = q.from !== undefined ? parseTime('from', q.from) : toMs - REPORT_SPAN_DEFAULT_MS;
  if (toMs <= fromMs) throw new AdminError(400, 'BAD_REQUEST', 'to must be after from');
  return { asOfMs, toMs, fromMs };
}

/** The report routes. */
export function reportRoutes({ node }: AdminDeps) {
  const source = () => ({ scan: (range: { fromMs: number; toMs: number; feature?: string }) => node.usageScan(range), heldLeases: node.leases() });
  return new OpenAPIHono<AdminEnv>()
    .openapi(getUtilization, (c) => {
      const q = c.req.valid('query');
      const { asOfMs, toMs, fromMs } = periodOf(node, q);
      const levels = utilizationHistogram(reportInput(source(), { fromMs, toMs, feature: q.feature }), { fromMs, toMs, asOfMs, feature: q.feature });
      const elapsedMs = Math.max(1, Math.min(toMs, asOfMs) - fromMs);
      return c.json(
        readAnswer(c, {
          feature: q.feature,
          from: new Date(fromMs).toISOString(),
          to: new Date(toMs).toISOString(),
          asOf: new Date(asOfMs).toISOString(),
          levels: levels.map((l) => ({ seatsInUse: l.seatsInUse, hours: round3(l.ms / 3_600_000), share: Math.round((l.ms / elapsedMs) * 1e6) / 1e6 })),
        }),
        200,
      );
    })
    .openapi(getUsageReport, (c) => {
    const q = c.req.valid('query');
    const { asOfMs, toMs, fromMs } = periodOf(node, q);
    const query: UsageReportQuery = {
      fromMs,
      toMs,
      interval: q.interval,
      asOfMs,
      // A pool without usage in the period still has its lines (of zeros).
      features: [...new Set(node.pools().map((p) => p.feature))],
      ...(q.feature !== undefined && q.feature !== '' ? { feature: q.feature } : {}),
      ...(q.by !== undefined ? { by: q.by } : {}),
    };
    let all;
    try {
      all = computeUsageReport(reportInput(source(), query), query);
    } catch (error) {
      if (error instanceof ReportTooLargeError) throw new AdminError(422, error.code, error.message);
      throw error;
    }
    const offset = q.cursor ?? 0;
    const limit = q.limit ?? REPORT_PAGE_DEFAULT;
    const page = all.slice(offset, offset + limit);
    const nextCursor = offset + limit < all.length ? offset + limit : null;
    if (q.format === 'csv') {
      // A later page's file says which lines it holds, so the parts of one report do not share a name.
      const part = offset === 0 && nextCursor === null ? '' : `-lines-${offset + 1}-${offset + page.length}`;
      const name = `floe-usage-${new Date(fromMs).toISOString().slice(0, 10)}-${new Date(toMs).toISOString().slice(0, 10)}${part}.csv`;
      const headers: Record<string, string> = { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}"` };
      if (nextCursor !== null) headers['x-floe-next-cursor'] = String(nextCursor);
      return c.body(reportCsv(page, q.by), 200, headers) as never;
    }
    const lines = page.map((l) => ({
      start: new Date(l.startMs).toISOString(),
      end: new Date(l.endMs).toISOString(),
      feature: l.feature,
      ...(q.by !== undefined ? { [q.by]: l.key } : {}),
      peakInUse: l.peakInUse,
      averageInUse: round3(l.averageInUse),
      seatHours: round3(l.seatHours),
      checkouts: l.checkouts,
      denials: l.denials,
      queueWaits: l.queueWaits,
      queueWaitMsAvg: Math.round(l.queueWaitMsAvg),
    }));
    const body = {
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      interval: q.interval,
      by: q.by ?? null,
      asOf: new Date(asOfMs).toISOString(),
      lines,
      total: all.length,
      nextCursor,
    };
    return c.json(readAnswer(c, body), 200);
  });
}
