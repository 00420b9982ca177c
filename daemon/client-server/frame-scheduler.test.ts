import { describe, expect, it } from 'vitest';
import { FrameScheduler } from './frame-scheduler.ts';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('FrameScheduler', () => {
  it('handles at most framesPerTurnMax frames per event-loop turn, one per connection in turn', async () => {
    const scheduler = new FrameScheduler(8);
    const ran: string[] = [];
    const work = (name: string, frames: number) => {
      let left = frames;
      return {
        runOne: () => {
          ran.push(name);
          left--;
          return left > 0;
        },
      };
    };
    const a = work('a', 10);
    const b = work('b', 3);
    scheduler.add(a);
    scheduler.add(b);
    scheduler.add(a); // already waiting: not twice
    await turn();
    expect(ran).toEqual(['a', 'b', 'a', 'b', 'a', 'b', 'a', 'a']);
    await turn();
    expect(ran).toHaveLength(13);
    await turn();
    expect(ran).toHaveLength(13);
    scheduler.stop();
  });

  it('runs nothing after stop()', async () => {
    const scheduler = new FrameScheduler(8);
    let runs = 0;
    scheduler.add({ runOne: () => ++runs < 100 });
    scheduler.stop();
    await turn();
    expect(runs).toBe(0);
  });
});
