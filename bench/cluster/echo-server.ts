// The throughput baseline: a bare ws echo server in its own process, which
// the same load worker drives as it drives the cluster.
import { spawn, type ChildProcess } from 'node:child_process';

/** The bare ws echo server of the baseline (its own process). */
const ECHO_SERVER_JS = `
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 16384 });
wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data, { binary: false })));
wss.on('listening', () => console.log(JSON.stringify({ url: 'ws://127.0.0.1:' + wss.address().port })));
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));
`;

/** Starts the echo server; answers its process and URL. */
export async function startEcho(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['-e', ECHO_SERVER_JS], { cwd: import.meta.dirname, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error('echo server did not start')), 10_000);
    child.stdout!.on('data', (d) => {
      out += String(d);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line === undefined) return;
      clearTimeout(t);
      resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`echo server exited ${code}`)));
  });
  return { child, url };
}
