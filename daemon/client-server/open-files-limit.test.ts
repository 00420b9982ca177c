import { describe, expect, it } from 'vitest';
import { clampConnectionsMax, NODE_FILES_RESERVED, openFilesLimit } from './open-files-limit.ts';

describe('the open-files limit', () => {
  it('is read from /proc/self/limits (the soft limit), unknown when unlimited or unreadable', () => {
    const text = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n';
    expect(openFilesLimit(text)).toBe(1024);
    expect(openFilesLimit(text.replace('1024  ', 'unlimited'))).toBeUndefined();
    expect(openFilesLimit('nothing here')).toBeUndefined();
  });

  it('keeps connectionsMax below it, with room for the node itself, and says when it clamped', () => {
    expect(clampConnectionsMax(20_000, 1024)).toEqual({ connectionsMax: 1024 - NODE_FILES_RESERVED, clamped: true });
    expect(clampConnectionsMax(500, 1024)).toEqual({ connectionsMax: 500, clamped: false });
    expect(clampConnectionsMax(500, undefined)).toEqual({ connectionsMax: 500, clamped: false });
    expect(clampConnectionsMax(500, 10)).toEqual({ connectionsMax: 1, clamped: true });
  });
});
