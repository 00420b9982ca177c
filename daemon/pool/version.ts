// Product versions as dot-separated integers ("29", "2024.1"), ordered
// numerically part by part, a missing part counting as 0: a pool serves any
// checkout asking for a version at most its own.

/** The integers of `version`, or null when it is not dot-separated integers. */
export function parseVersion(version: string): number[] | null {
  if (!/^\d{1,9}(\.\d{1,9}){0,3}$/.test(version)) return null;
  return version.split('.').map(Number);
}

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
  const n = a.length > b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
