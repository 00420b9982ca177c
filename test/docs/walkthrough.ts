// `npm run docs:walkthrough`: runs the walkthrough of docs/operations.md as
// a newcomer would, every shell block pasted in order into one bash, in a
// scratch HOME, from this checkout; then checks what the reader is told to
// look for: the key imported, one key left after the rehost, and the
// client's lease held again after the restore. Prints, as its last line,
// {"walkthrough":"ok"|"failed",…} with the load average; exits 1 when a
// check fails (a copy of the walkthrough's files is then kept). It starts real servers on the walkthrough's
// fixed ports (7401–7404, 7501–7504, 7601–7604) and takes minutes: not a
// test of `npm test`; run it on a quiet machine after changing the
// walkthrough or the commands it uses.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, walkthroughBlocks } from './walkthrough.test-support.ts';

/** `ms` the whole walkthrough may take before it is stopped. */
const WALKTHROUGH_MS_MAX = 15 * 60_000;
/** Where, in the scratch HOME, the walkthrough's files are copied before step 10 removes them. */
const KEPT_DIR_NAME = 'floe-walk.kept';
/** A line between the blocks' outputs. */
const MARK = '@@walkthrough-step';

async function main(): Promise<number> {
  const home = mkdtempSync(join(tmpdir(), 'floe-walkthrough-'));
  const blocks = walkthroughBlocks();
  // errexit: a command that fails stops the run where it failed, as a reader would stop.
  // The clean-up (step 10) may find a process gone already: it runs without errexit.
  // Step 10 deletes ~/floe-walk: a copy is kept in the scratch HOME, whose logs explain a failed check.
  const beforeCleanUp = `set +e\ncp -a ~/floe-walk ~/${KEPT_DIR_NAME} 2>/dev/null\n`;
  const script = ['set -eo pipefail', ...blocks.map((b) => `${b.step === '10' ? beforeCleanUp : ''}echo '${MARK} ${b.step}'\n${b.script}`)].join('\n');
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  delete env['FLOE_ADMIN_TOKEN'];
  delete env['FLOE_ADMIN_URL'];
  const startedMs = Date.now();
  const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += String(d);
      process.stdout.write(d);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), WALKTHROUGH_MS_MAX);
    child.on('close', (c) => {
      clearTimeout(timer);
      resolve({ code: c, stdout: out });
    });
  });
  const seconds = Math.round((Date.now() - startedMs) / 1000);
  const byStep = new Map<string, string>();
  for (const part of stdout.split(`${MARK} `).slice(1)) {
    const step = part.slice(0, part.indexOf('\n'));
    byStep.set(step, (byStep.get(step) ?? '') + part.slice(step.length + 1));
  }
  const leaseId = /checked out 1 seat\(s\) of cad v2: lease (\S+)/.exec(byStep.get('6') ?? '')?.[1];
  const checks = {
    exitedZero: code === 0,
    keyImported: /^ {2}LIC-\S+ +active +cad 2 +concurrent 20 seats/m.test(byStep.get('5') ?? ''),
    clientHoldsSeat: leaseId !== undefined,
    oneKeyAfterRehost: ((byStep.get('7') ?? '').split('\nlicenses:\n')[1]?.split('\n\n')[0]?.trim().split('\n').length ?? 0) === 1,
    leaseRestored: leaseId !== undefined && new RegExp(`^${leaseId} `, 'm').test((byStep.get('9') ?? '').split('\nnode ')[0] ?? ''),
    clientResumed: /resumed: true\)\s*$/m.test((byStep.get('9') ?? '').split('\n').filter((l) => l.startsWith('connected to')).at(-1) ?? ''),
  };
  const ok = Object.values(checks).every(Boolean);
  if (ok) rmSync(home, { recursive: true, force: true });
  else process.stderr.write(`walkthrough failed; its files (logs, client.log) are in ${join(home, KEPT_DIR_NAME)}\n`);
  // The grace period and the client's 20 attempts are timed: a failed check at a high load average may be the machine.
  const loadAverage1m = Math.round(loadavg()[0]! * 10) / 10;
  process.stdout.write(`${JSON.stringify({ walkthrough: ok ? 'ok' : 'failed', seconds, loadAverage1m, ...checks, ...(ok ? {} : { scratchDir: join(home, KEPT_DIR_NAME) }) })}\n`);
  return ok ? 0 : 1;
}

process.exitCode = await main();
