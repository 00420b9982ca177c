// `npm run bench -- license`: how fast license keys are signed and verified
// (tweetnacl Ed25519, as the key center and every node use them), and how
// fast garbage is refused. Every loop is bounded in count and in time.
import process from 'node:process';
import nacl from 'tweetnacl';
import { deriveLockCode, signLicenseKey, vendorKeyIdOf, verifyLicenseKey, type LicensePayload } from '../protocol/index.ts';

/** Longest a measured loop runs, ms. */
const LOOP_MS_MAX = 3_000;
/** Most iterations of a measured loop. */
const LOOP_COUNT_MAX = 2_000;

/** Runs `fn` until either bound; answers operations per second. */
function measure(fn: (i: number) => void): { opsPerSec: number; count: number } {
  const start = performance.now();
  let count = 0;
  while (count < LOOP_COUNT_MAX && performance.now() - start < LOOP_MS_MAX) fn(count++);
  const elapsedMs = performance.now() - start;
  return { opsPerSec: Math.round((count / elapsedMs) * 1000 * 10) / 10, count };
}

export async function run(_args: string[]): Promise<Record<string, unknown>> {
  const vendor = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(9));
  const locks = [1, 2, 3].map((n) => deriveLockCode({ machineId: 'bench', macs: [], hostname: 'bench' }, new Uint8Array(32).fill(n)));
  const nowMs = Date.now();
  const payload = (i: number): LicensePayload => ({
    v: 1,
    licenseId: `LIC-BENCH-${i}`,
    authCode: 'AAAAA-BBBBB-CCCCC-DDDDD',
    vendorKeyId: vendorKeyIdOf(vendor.publicKey),
    product: 'stats',
    version: '29',
    model: 'concurrent',
    seats: 100,
    components: [],
    issuedAt: nowMs,
    notBefore: nowMs - 86_400_000,
    expiresAt: nowMs + 365 * 86_400_000,
    lockCodes: locks,
    lingerSeconds: 0,
    hostsPerUserMax: 1,
    hostDescription: 'license server, Minneapolis data center',
    orderNumber: 'PO-12345',
  });

  const keys: string[] = [];
  const sign = measure((i) => keys.push(signLicenseKey(payload(i), vendor.secretKey)));
  process.stdout.write(`sign:    ${sign.opsPerSec} keys/s (${sign.count} keys, tweetnacl)\n`);

  const options = { vendorKeys: [vendor.publicKey], nowMs, lockCode: locks[1] };
  const verify = measure((i) => {
    const verdict = verifyLicenseKey(keys[i % keys.length], options);
    if (!verdict.ok) throw new Error(`bench key refused: ${verdict.code}`);
  });
  process.stdout.write(`verify:  ${verify.opsPerSec} keys/s (${verify.count} keys, signature + schema + lock code)\n`);

  const garbage = 'x'.repeat(1 << 20);
  const refuse = measure(() => {
    if (verifyLicenseKey(garbage, options).ok) throw new Error('garbage accepted');
  });
  process.stdout.write(`refuse 1 MB garbage: ${refuse.opsPerSec}/s\n`);

  const keyChars = keys[0]?.length ?? 0;
  process.stdout.write(`key length: ${keyChars} characters (3 lock codes, host description, order number)\n`);
  return {
    signPerSec: sign.opsPerSec,
    verifyPerSec: verify.opsPerSec,
    refuseGarbagePerSec: refuse.opsPerSec,
    keyChars,
  };
}
