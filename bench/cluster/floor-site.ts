// The throughput floor (`--floor`): what a durable, replicated request costs
// on this machine with none of Floe's logic. Three processes in Floe's shape:
// a leader that takes the load worker's ws frames, parses each one's JSON,
// appends a turn's frames to a file and sends them to two followers over TCP
// in one frame; each follower appends, fdatasyncs and acknowledges; the
// leader answers a frame once it is durable on itself and on one follower.
// With no load the leader heartbeats every 50 ms and each follower answers,
// as Floe's Raft does by default; nothing else runs (`--floor` in the idle
// bench reads that cost).
// No Raft bookkeeping, no SQLite, no pool, no validation: what any server
// with Floe's shape pays here at the least, so `ratioToFloor_N` says how far
// Floe is from it and `floorRatioToEcho_N` what ratio to echo this machine
// allows at all.
import { spawn, type ChildProcess } from 'node:child_process';
import { fdatasync, mkdtempSync, openSync, rmSync, write as writeFd } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';

/** `ms` between the leader's heartbeats when no entry goes out: Floe's default (tick 25 ms × heartbeatTicks 2). */
const HEARTBEAT_MS = 50;

/** Environment variable that makes this file a floor process: `leader` or `follower`. */
const ROLE_ENV = 'FLOE_FLOOR_ROLE';

/**
 * An append-only file whose writes are coalesced and synced one batch at a
 * time off the event loop (as Floe's log hands its fsync to a pool): `done`
 * hears the highest index of each synced batch.
 */
class SyncedFile {
  private readonly fd: number;
  private readonly chunks: Buffer[] = [];
  private upTo = 0;
  private syncing = false;
  /** Highest index synced so far. */
  synced = 0;
  constructor(path: string, private readonly done: (upTo: number) => void) {
    this.fd = openSync(path, 'a');
  }
  append(data: Buffer, index: number): void {
    this.chunks.push(data);
    this.upTo = index;
    this.sync();
  }
  private sync(): void {
    if (this.syncing || this.chunks.length === 0) return;
    this.syncing = true;
    const data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks.length = 0;
    const upTo = this.upTo;
    writeFd(this.fd, data, (error) => {
      if (error) throw error;
      fdatasync(this.fd, (error2) => {
        if (error2) throw error2;
        this.syncing = false;
        this.synced = upTo;
        this.done(upTo);
        this.sync();
      });
    });
  }
}

/** Calls `onFrame(index, payload)` for each `[u32 length][u32 index][payload]` frame read from `socket`. */
function readFrames(socket: Socket, headerBytes: 4 | 8, onFrame: (a: number, payload: Buffer) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
    let off = 0;
    while (buf.length - off >= headerBytes) {
      if (headerBytes === 4) {
        onFrame(buf.readUInt32BE(off), buf.subarray(0, 0));
        off += 4;
        continue;
      }
      const len = buf.readUInt32BE(off);
      if (buf.length - off < 8 + len) break;
      onFrame(buf.readUInt32BE(off + 4), buf.subarray(off + 8, off + 8 + len));
      off += 8 + len;
    }
    buf = buf.subarray(off);
  });
}

function follower(dir: string): void {
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    const ack = (upTo: number) => {
      const b = Buffer.allocUnsafe(4);
      b.writeUInt32BE(upTo);
      socket.write(b);
    };
    const file = new SyncedFile(join(dir, `log-${process.pid}`), ack);
    // An empty frame is the leader's heartbeat: answered at once with what is durable.
    readFrames(socket, 8, (index, payload) => (payload.length === 0 ? ack(file.synced) : file.append(payload, index)));
  });
  server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: (server.address() as { port: number }).port })));
}

function leader(dir: string, ports: number[]): void {
  const peers = ports.map((port) => connect(port, '127.0.0.1'));
  const acked = peers.map(() => 0);
  let durable = 0;
  let lastIndex = 0;
  let answered = 0;
  /** Replies owed per entry index. */
  const owed = new Map<number, { ws: WebSocket; id: unknown }[]>();
  let turn: { ws: WebSocket; id: unknown }[] = [];
  let frames: Buffer[] = [];
  let scheduled = false;
  const answer = () => {
    const committed = Math.min(durable, Math.max(...acked));
    while (answered < committed) {
      answered++;
      for (const r of owed.get(answered) ?? []) r.ws.send(JSON.stringify({ id: r.id, ok: true, leaseId: 'L' }));
      owed.delete(answered);
    }
  };
  const file = new SyncedFile(join(dir, 'log-leader'), (upTo) => {
    durable = upTo;
    answer();
  });
  peers.forEach((p, i) => {
    p.setNoDelay(true);
    readFrames(p, 4, (upTo) => {
      acked[i] = Math.max(acked[i]!, upTo);
      answer();
    });
  });
  // Heartbeats as a Raft leader sends them with Floe's default timing (tick 25 ms, heartbeat every 2 ticks):
  // an empty frame to each follower unless an entry went out since the last one; each is answered.
  let sentSinceBeat = false;
  const heartbeat = Buffer.alloc(8);
  setInterval(() => {
    if (!sentSinceBeat) for (const p of peers) p.write(heartbeat);
    sentSinceBeat = false;
  }, HEARTBEAT_MS);
  // One entry per event-loop turn: every frame that arrived in it, each length-prefixed.
  const flush = () => {
    sentSinceBeat = true;
    scheduled = false;
    const index = ++lastIndex;
    owed.set(index, turn);
    const parts: Buffer[] = [Buffer.allocUnsafe(8)];
    for (const f of frames) {
      const h = Buffer.allocUnsafe(4);
      h.writeUInt32BE(f.length);
      parts.push(h, f);
    }
    const frame = Buffer.concat(parts);
    frame.writeUInt32BE(frame.length - 8, 0);
    frame.writeUInt32BE(index, 4);
    for (const p of peers) p.write(frame);
    file.append(frame.subarray(8), index);
    turn = [];
    frames = [];
  };
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 16384 });
  wss.on('connection', (ws) =>
    ws.on('message', (data: Buffer) => {
      let id: unknown;
      try {
        id = (JSON.parse(String(data)) as { id?: unknown }).id;
      } catch {
        ws.close(1007);
        return;
      }
      turn.push({ ws, id });
      frames.push(data);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    }),
  );
  wss.on('listening', () => console.log(JSON.stringify({ url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}/` })));
}

/** Starts `role` as a child of the bench; answers it and the first JSON line it prints. */
async function startChild<T>(role: string, env: Record<string, string>): Promise<{ child: ChildProcess; hello: T }> {
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename], {
    env: { ...process.env, [ROLE_ENV]: role, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const hello = await new Promise<T>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`floor ${role} did not start`)), 20_000);
    child.stdout!.on('data', (d) => {
      out += String(d);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line === undefined) return;
      clearTimeout(t);
      resolve(JSON.parse(line) as T);
    });
    child.once('exit', (code) => reject(new Error(`floor ${role} exited ${code}`)));
  });
  return { child, hello };
}

/** The floor's three processes (leader first) and its URL; `stop()` kills them and removes their files. */
export async function startFloor(): Promise<{ children: ChildProcess[]; url: string; stop: () => void }> {
  const dir = mkdtempSync(join(os.tmpdir(), 'floe-floor-'));
  const children: ChildProcess[] = [];
  const stop = () => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const followers = await Promise.all([0, 1].map(() => startChild<{ port: number }>('follower', { FLOE_FLOOR_DIR: dir })));
    children.push(...followers.map((f) => f.child));
    const lead = await startChild<{ url: string }>('leader', { FLOE_FLOOR_DIR: dir, FLOE_FLOOR_PORTS: followers.map((f) => f.hello.port).join(',') });
    children.unshift(lead.child);
    return { children, url: lead.hello.url, stop };
  } catch (error) {
    stop();
    throw error;
  }
}

const role = process.env[ROLE_ENV];
if (role !== undefined) {
  // A child of the bench: it dies with it.
  process.on('disconnect', () => process.exit(0));
  const dir = process.env['FLOE_FLOOR_DIR']!;
  if (role === 'follower') follower(dir);
  else leader(dir, String(process.env['FLOE_FLOOR_PORTS']).split(',').map(Number));
}
