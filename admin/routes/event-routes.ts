// GET /events: the node's live events as server-sent events (Hono's
// streamSSE over the shared EventHub). Not behind the read barrier: it
// streams what this node applies, and each `pools` event says the node's
// role and how far behind the leader's commit it is.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import type { AdminEnv } from '../admin-env.ts';
import { BEARER_SECURITY, errorResponses } from '../api-schemas.ts';
import { AdminError } from '../errors.ts';
import { EVENT_SUBSCRIBERS_MAX, EVENTS_FLUSH_MS, EVENTS_PER_FLUSH_MAX, type EventHub } from '../events/event-hub.ts';

const EVENTS_DESCRIPTION = [
  `Server-sent events, batched: at most one batch every ${EVENTS_FLUSH_MS} ms, sent within ${EVENTS_FLUSH_MS} ms of what it reports. Each message's \`event\` is one of:`,
  '`checkout` {at, feature, version, user, host, count, leaseId} (id: the log index);',
  '`checkin` {…, reason: normal|expiry|forced|license-removed|license-expired|user-unassigned, detail: the admin\'s reason when forced};',
  '`denial` {at, feature, version, user, host, code};',
  '`queue` {feature, version, requestId, position} (position null once it left: reason, or waitedMs);',
  '`leader` {leaderId, role, nodeId, term};',
  '`pools` {nodeId, role, leaderId, appliedIndex, lagEntries, full, pools: [Pool]}: at once and after a gap or a leadership change every pool (full: true: a pool not listed is gone);',
  'after seats moved, once per batch, the latest figures of only the pools that changed (full: false);',
  `\`gap\` (this connection fell behind: events were skipped; a full pools message follows); \`dropped\` {count, byEvent} (more than ${EVENTS_PER_FLUSH_MAX} events in one batch: the rest are counted, not sent; the usage log has them all).`,
].join(' ');

const getEvents = createRoute({
  method: 'get',
  path: '/events',
  summary: 'Live events: checkouts, checkins, denials, queue moves, leadership, pool snapshots',
  description: EVENTS_DESCRIPTION,
  security: BEARER_SECURITY,
  responses: {
    200: { description: 'an event stream', content: { 'text/event-stream': { schema: z.string() } } },
    ...errorResponses(503),
  },
});

/** The events route over `hub`. */
export function eventRoutes(hub: EventHub) {
  return new OpenAPIHono<AdminEnv>().openapi(getEvents, (c) => {
    if (hub.subscriberCount >= EVENT_SUBSCRIBERS_MAX) throw new AdminError(503, 'UNAVAILABLE', `${EVENT_SUBSCRIBERS_MAX} event streams are open on this node; try another node or later`);
    return streamSSE(c, async (stream) => {
      const ended = new Promise<void>((resolve) => stream.onAbort(resolve));
      const unsubscribe = hub.subscribe({ write: (chunk) => stream.write(chunk) });
      if (unsubscribe === undefined) return;
      try {
        await ended;
      } finally {
        unsubscribe();
      }
    });
  });
}
