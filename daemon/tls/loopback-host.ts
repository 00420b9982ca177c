// Whether a listen host is reachable from this machine only. Plain ws:// and
// http:// are for such hosts; any other bind needs TLS or `insecure = true`.
import { isIP } from 'node:net';

/** True for `localhost`, 127.0.0.0/8, ::1 and ::ffff:127.x; false for anything else (0.0.0.0 and :: included). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^(0{0,4}:){5}(0{0,4}:)?ffff:127\./.test(h) || /^::ffff:127\./.test(h);
  return false;
}
