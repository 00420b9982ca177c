// A backup of a live cluster, as a stream of the backup file's bytes
// (backup-format.ts), for the admin route GET /api/v1/backup. Online and
// consistent: after a read barrier (the node has applied everything the
// leader had committed when the backup began) the node captures its pool
// snapshot and membership at its applied index in one synchronous step, so
// the cluster never pauses; the usage rows up to that index follow page by
// page, pulled as fast as the reader takes them (rows are only appended, so
// later rows never slip in and none is missed).
import { createHash } from 'node:crypto';
import type { CapturedState } from '../node/index.ts';
import type { UsageRow } from '../storage/index.ts';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, encodeUsageLine, type BackupHeader } from './backup-format.ts';

/** Usage rows read from the table per pull of the stream. */
export const BACKUP_USAGE_ROWS_PER_PAGE = 2000;

/** What a backup needs of its node (a FloeNode). */
export interface BackupSource {
  readBarrier(): Promise<void>;
  captureState(): CapturedState;
  usagePage(afterId: number, logIndexMax: number, limit: number): { rows: UsageRow[]; lastId: number };
}

/** The header of a captured state. */
export function backupHeader(s: CapturedState): BackupHeader {
  const ids = [...s.confState.voters, ...s.confState.learners];
  const known = new Map([...s.configPeers, ...s.addedMembers].map((m) => [m.id, m]));
  return {
    format: BACKUP_FORMAT,
    v: BACKUP_FORMAT_VERSION,
    takenAt: s.takenAt,
    takenBy: s.nodeId,
    leaderId: s.leaderId,
    appliedIndex: s.appliedIndex,
    term: s.term,
    membership: {
      voters: [...s.confState.voters],
      learners: [...s.confState.learners],
      members: ids.map((id) => {
        const m = known.get(id);
        return {
          id,
          ...(m?.peerUrl !== undefined ? { peerUrl: m.peerUrl } : {}),
          ...(m?.clientUrl !== undefined ? { clientUrl: m.clientUrl } : {}),
          ...(m?.publicKey !== undefined ? { publicKey: m.publicKey } : {}),
        };
      }),
    },
    counts: { licenses: s.licenses.length, pools: s.poolCount, sessions: s.sessionCount, leases: s.leaseCount },
    licenses: s.licenses.map((l) => ({
      licenseId: l.licenseId,
      product: l.payload.product,
      version: l.payload.version,
      seats: l.payload.seats,
      expiresAt: l.payload.expiresAt ?? null,
      lockCodes: [...l.payload.lockCodes],
    })),
    poolBytes: s.pool.length,
  };
}

/**
 * Waits for the read barrier (rejects as readBarrier does: no leader), then
 * captures the state and answers its header and the stream of the whole
 * backup file. The stream ends with the trailer line.
 */
export async function openBackupStream(node: BackupSource): Promise<{ header: BackupHeader; stream: ReadableStream<Uint8Array> }> {
  await node.readBarrier();
  const state = node.captureState();
  const header = backupHeader(state);
  const hash = createHash('sha256');
  const encoder = new TextEncoder();
  let stage: 'head' | 'usage' | 'done' = 'head';
  let afterId = 0;
  let usageRows = 0;
  const emit = (controller: ReadableStreamDefaultController<Uint8Array>, text: string) => {
    const bytes = encoder.encode(text);
    hash.update(bytes);
    controller.enqueue(bytes);
  };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (stage === 'head') {
        emit(controller, `${JSON.stringify(header)}\n`);
        emit(controller, `${JSON.stringify({ pool: Buffer.from(state.pool).toString('base64') })}\n`);
        stage = 'usage';
        return;
      }
      if (stage === 'usage') {
        const page = node.usagePage(afterId, state.appliedIndex, BACKUP_USAGE_ROWS_PER_PAGE);
        if (page.rows.length > 0) {
          afterId = page.lastId;
          usageRows += page.rows.length;
          emit(controller, `${page.rows.map(encodeUsageLine).join('\n')}\n`);
          return;
        }
        stage = 'done';
        // The trailer is not part of its own digest.
        controller.enqueue(encoder.encode(`${JSON.stringify({ end: true, usageRows, sha256: hash.digest('hex') })}\n`));
        controller.close();
      }
    },
  });
  return { header, stream };
}
