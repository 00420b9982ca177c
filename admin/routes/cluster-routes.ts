// GET /cluster and membership changes (POST /cluster/members, DELETE
// /cluster/members/:id). /cluster is not behind the read barrier: it answers
// even on a node cut off from the majority, which is when it matters most.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { UnstampedAdminCommand } from '../../daemon/node/index.ts';
import { parseNodeLockCodes } from '../../protocol/index.ts';
import type { AdminDeps } from '../admin-deps.ts';
import { auditStamp, type AdminEnv } from '../admin-env.ts';
import { BEARER_SECURITY, errorResponses, jsonRequestBody, jsonResponse } from '../api-schemas.ts';
import { AdminError } from '../errors.ts';
import { requireRole } from '../require-role.ts';

/** One member as the answering node sees it; null where it cannot know. */
export const memberViewSchema = z.object({
  id: z.string(),
  role: z.string(),
  commitIndex: z.number().int().nullable(),
  appliedIndex: z.number().int().nullable(),
  matchIndex: z.number().int().optional().openapi({ description: 'leader only: the highest index known replicated on the member' }),
  recentActive: z.boolean().optional().openapi({ description: 'leader only: heard from within the last election timeout' }),
  clockSkewMs: z.number().int().optional().openapi({ description: "ms: the member's wall clock minus the answering node's (0 for itself), measured on the peer pings; absent until measured" }),
  tlsNotAfter: z.string().optional().openapi({ description: "ISO 8601: when the member's TLS certificate ends (the answering node's as loaded, another's as it last showed it on a peer link); absent without TLS or before it was seen" }),
  lockCode: z.string().nullable().optional().openapi({ description: "the member's lock code as `floe lockcode` prints it there, as it stated it to this node (its own for the answering node); null: unknown" }),
  legacyLockCode: z.string().optional().openapi({ description: "the member's legacy (0.1) lock code, which older keys name; absent when it states none" }),
  connected: z.boolean().optional().openapi({ description: 'other members: an authenticated peer connection to it is open now' }),
  state: z
    .enum(['caught-up', 'behind', 'down', 'rejoining'])
    .nullable()
    .openapi({
      description:
        'caught-up: holds (leader\'s view) or applied (own view) everything committed; behind: by lagEntries; down: the leader heard nothing for one to two election timeouts; rejoining: its storage lost acknowledged entries, it catches up and neither votes nor counts until the leader confirms it; null: this node cannot know',
    }),
  lagEntries: z.number().int().nullable().openapi({ description: 'entries it lacks of the commit index; null when unknown' }),
});

/** The answering node's clocks. */
export const clockStatusSchema = z.object({
  clusterTimeMs: z.number().int().openapi({ description: 'ms since the epoch: cluster time, which lease deadlines run on (never jumps)' }),
  wallMs: z.number().int().openapi({ description: "ms since the epoch: this node's wall clock" }),
  wallAheadMs: z.number().int().openapi({ description: 'ms: wall clock minus cluster time, which cluster time is still slewing to absorb' }),
  stepCount: z.number().int().openapi({ description: 'wall-clock steps seen since the node started (each is logged as a warning)' }),
  lastStepMs: z.number().int().openapi({ description: 'ms: the last step (+ forward, - back); 0 when none' }),
});

/** GET /cluster. */
export const clusterViewSchema = z
  .object({
    leaderId: z.string(),
    term: z.number().int(),
    reportedBy: z.object({ id: z.string(), role: z.string() }),
    nodes: z.array(memberViewSchema),
    clock: clockStatusSchema,
  })
  .openapi('Cluster');

/**
 * `ms` an add waits for the new member to hold the log before it answers
 * (below the 10 s `floe cluster add` waits for one answer; it asks again).
 */
const MEMBER_CATCH_UP_MS = 8000;

/** POST /cluster/members. */
export const memberAddSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/),
    peerUrl: z.string().url().regex(/^wss?:\/\//),
    clientUrl: z.string().url().optional(),
    publicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  })
  .strict();

const getCluster = createRoute({
  method: 'get',
  path: '/cluster',
  summary: 'The leader, the term and each member as this node knows them',
  security: BEARER_SECURITY,
  responses: { 200: jsonResponse(clusterViewSchema, 'the cluster'), ...errorResponses() },
});

const addMember = createRoute({
  method: 'post',
  path: '/cluster/members',
  summary: 'Add a member: a learner until it holds the log, then a voter (leader only; start it with join = true first)',
  security: BEARER_SECURITY,
  middleware: [requireRole('admin')] as const,
  request: { body: jsonRequestBody(memberAddSchema) },
  responses: { 201: jsonResponse(clusterViewSchema, 'the cluster once the member is a voter'), ...errorResponses(400, 413, 415, 503) },
});

const removeMember = createRoute({
  method: 'delete',
  path: '/cluster/members/{id}',
  summary: 'Remove a member (leader only)',
  security: BEARER_SECURITY,
  middleware: [requireRole('admin')] as const,
  request: { params: z.object({ id: z.string() }) },
  responses: { 200: jsonResponse(clusterViewSchema, 'the cluster once the change is applied'), ...errorResponses(503) },
});

/**
 * A conf change is not a command, so its audit entry is an audit-note that
 * follows it once it applied. The change is done whatever becomes of the
 * note (a new member may still be catching up, so the note can wait for a
 * quorum): a note that fails is logged, and never fails the change's answer.
 */
function noteMembership({ node, log }: AdminDeps, note: Extract<UnstampedAdminCommand, { type: 'audit-note' }>, audit: { actor: string }): void {
  node.proposeAdmin(note, audit).then(
    (r) => {
      if (!r.reply.ok) log(`audit note of ${note.action} ${note.target} refused: ${r.reply.code}`);
    },
    (error: unknown) => log(`audit note of ${note.action} ${note.target} not recorded: ${(error as Error).message}`),
  );
}

/**
 * A member's lock codes as an admin compares them with `floe lockcode` and
 * with keys: its tolerant code and its legacy one apart, where it states
 * both in one handshake line (formatNodeLockCodes).
 */
function shownLockCodes(stated: string | undefined): { lockCode: string | null; legacyLockCode?: string } {
  if (stated === undefined) return { lockCode: null };
  const codes = parseNodeLockCodes(stated);
  if (codes.tolerant === undefined) return { lockCode: codes.exact ?? stated };
  return codes.exact === undefined ? { lockCode: codes.tolerant } : { lockCode: codes.tolerant, legacyLockCode: codes.exact };
}

/** The cluster routes. */
export function clusterRoutes(deps: AdminDeps) {
  const { node } = deps;
  const cluster = () => {
    const view = node.clusterStatus();
    const peers = node.peers();
    // Each member's lock code and connection, as the peer transport knows them.
    const nodes = view.nodes.map((m) => {
      if (m.id === view.reportedBy.id) return { ...m, ...shownLockCodes(node.lockCode) };
      const peer = peers.get(m.id);
      return peer === undefined ? m : { ...m, ...shownLockCodes(peer.lockCode), connected: peer.connected };
    });
    return { ...view, nodes };
  };
  return new OpenAPIHono<AdminEnv>()
    .openapi(getCluster, (c) => c.json(cluster(), 200))
    .openapi(addMember, async (c) => {
      const body = c.req.valid('json');
      const added = await node.addMember({ id: body.id, peerUrl: body.peerUrl, publicKey: body.publicKey, ...(body.clientUrl !== undefined ? { clientUrl: body.clientUrl } : {}) }, MEMBER_CATCH_UP_MS);
      if (!added.voter) {
        throw new AdminError(
          503,
          'MEMBER_CATCHING_UP',
          `${body.id} is a learner (it receives the log and counts toward no quorum) and holds ${added.match} of the ${added.target} entries it needs before it may vote: check that it runs with join = true and reaches the leader, and add it again to make it a voter`,
        );
      }
      noteMembership(deps, { type: 'audit-note', action: 'member-add', target: body.id, detail: body.peerUrl }, auditStamp(c));
      return c.json(cluster(), 201);
    })
    .openapi(removeMember, async (c) => {
      const { id } = c.req.valid('param');
      await node.removeMember(id);
      noteMembership(deps, { type: 'audit-note', action: 'member-remove', target: id, detail: '' }, auditStamp(c));
      return c.json(cluster(), 200);
    });
}
