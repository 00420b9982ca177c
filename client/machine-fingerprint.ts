// The machine fingerprint a borrowed seat is bound to: a digest of what
// identifies this computer (its machine-id where the OS has one, its host
// name, the MAC addresses of its non-internal interfaces), so a borrow token
// copied to another machine is refused by the offline check. Not a secret
// and not tamper-proof (the lock code of a server is the same kind of thing):
// it keeps honest people honest. An application with a better identifier
// (a hardware id it already reads) passes its own instead.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Files that hold the machine-id on Linux (the first readable one counts). */
const MACHINE_ID_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id'];
/** Characters of a fingerprint: 32 hex digits (128 bits of SHA-256). */
export const FINGERPRINT_HEX_CHARS = 32;

function machineId(): string {
  for (const file of MACHINE_ID_FILES) {
    try {
      const id = readFileSync(file, 'utf8').trim();
      if (id !== '') return id;
    } catch {
      // absent or unreadable (containers, other OSes): the other identifiers still count
    }
  }
  return '';
}

/** This machine's fingerprint: 32 hex digits, the same every time on the same machine. */
export function machineFingerprint(): string {
  const macs = new Set<string>();
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) if (!a.internal && a.mac !== '00:00:00:00:00:00') macs.add(a.mac.toLowerCase());
  }
  const text = JSON.stringify(['floe-machine', 1, machineId().toLowerCase(), os.hostname().toLowerCase(), [...macs].sort()]);
  return createHash('sha256').update(text).digest('hex').slice(0, FINGERPRINT_HEX_CHARS);
}
