import { describe, expect, it } from 'vitest';
import * as fromTs from './index.ts';

describe('client/index.js (the floe/client entry of package.json "exports")', () => {
  it('exports every runtime value of client/index.ts, by the same name and kind', async () => {
    // By URL: the plain JavaScript file itself (TypeScript would map './index.js' to index.ts).
    const fromJs = (await import(new URL('./index.js', import.meta.url).href)) as Record<string, unknown>;
    expect(Object.keys(fromJs).sort()).toEqual(Object.keys(fromTs).sort());
    for (const [name, value] of Object.entries(fromTs)) expect(typeof fromJs[name], name).toBe(typeof value);
  });
});
