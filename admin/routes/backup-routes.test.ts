// GET /backup through app.request(): who may take one, and what it streams.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../daemon/config.ts';
import { FloeNode } from '../../daemon/node/index.ts';
import { createAdminApp } from '../admin-app.ts';
import { configTokenVerifier, hashToken } from '../bearer-auth.ts';

const TOKEN = 'backup-routes-admin';
let dir: string;
let node: FloeNode;
let app: ReturnType<typeof createAdminApp>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'floe-admin-backup-'));
  node = await FloeNode.open({ config: parseConfig({ dataDir: dir }), lockCode: 'LOCK' });
  const configTokens = configTokenVerifier([hashToken(TOKEN)]);
  app = createAdminApp(node, {
    tokenSha256: [hashToken(TOKEN)],
    bodyBytesMax: 32 * 1024,
    verifyToken: (token) => (token === 'operator-token' ? { name: 'ops', role: 'operator' } : configTokens(token)),
  });
});

afterAll(async () => {
  await node.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /backup', () => {
  it('streams the backup file to an admin token, naming its index', async () => {
    const res = await app.request('/api/v1/backup', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const index = Number(res.headers.get('x-floe-backup-index'));
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="floe-n1-${index}.backup"`);
    const lines = (await res.text()).trimEnd().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ format: 'floe-backup', v: 1, takenBy: 'n1', appliedIndex: index });
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ end: true, usageRows: 0 });
  });

  it('is refused to an operator token (403 FORBIDDEN): the file holds every user and session', async () => {
    const res = await app.request('/api/v1/backup', { headers: { authorization: 'Bearer operator-token' } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
  });
});
