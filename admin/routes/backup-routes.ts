// GET /backup: an online, consistent backup of the replicated state,
// streamed as the backup file (daemon/backup/backup-format.ts) for
// `floe backup`. The node first passes a read barrier through the leader,
// then captures its state at its applied index in one step; the cluster
// never pauses, and the usage rows stream as fast as the caller reads.
// Admin only: the file holds every license, session and user name.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { openBackupStream } from '../../daemon/backup/index.ts';
import type { AdminDeps } from '../admin-deps.ts';
import type { AdminEnv } from '../admin-env.ts';
import { BEARER_SECURITY, errorResponses } from '../api-schemas.ts';
import { requireRole } from '../require-role.ts';

/** The media type of a backup file: one JSON document per line. */
export const BACKUP_MEDIA_TYPE = 'application/x-ndjson';

const getBackup = createRoute({
  method: 'get',
  path: '/backup',
  summary: 'An online, consistent backup: licenses, pools, sessions, leases with their ids, membership, usage rows (docs/operations.md)',
  security: BEARER_SECURITY,
  middleware: [requireRole('admin')] as const,
  responses: {
    200: {
      description: 'the backup file: a header line, the pool snapshot, one line per usage row, a trailer with the SHA-256; x-floe-backup-index names the applied index',
      // Widened to string: zod-openapi would type any */*json* media type as a JSON body.
      content: { [BACKUP_MEDIA_TYPE as string]: { schema: z.string() } },
    },
    ...errorResponses(503),
  },
});

/** The backup route. */
export function backupRoutes({ node }: AdminDeps) {
  return new OpenAPIHono<AdminEnv>().openapi(getBackup, async (c) => {
    const { header, stream } = await openBackupStream(node);
    return c.body(stream, 200, {
      'content-type': BACKUP_MEDIA_TYPE,
      'content-disposition': `attachment; filename="floe-${header.takenBy}-${header.appliedIndex}.backup"`,
      'cache-control': 'no-store',
      'x-floe-backup-index': String(header.appliedIndex),
    });
  });
}
