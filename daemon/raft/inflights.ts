// Flow control for one follower in replicate state: the append messages sent
// but not yet acknowledged, as a fixed-size ring of (last index, bytes). The
// leader stops sending when the ring is full or the bytes in flight pass a
// limit, and frees slots as acknowledgements arrive.
import { assert } from './assert.ts';

/** A bounded window of in-flight append messages to one follower. */
export class Inflights {
  /** Slot i holds the last entry index of an in-flight message. */
  private readonly indexes: number[];
  private readonly bytesOf: number[];
  /** Ring position of the oldest in-flight message. */
  private start = 0;
  /** Invariant: 0 <= count <= messagesMax. */
  private countHeld = 0;
  /** Invariant: the sum of bytesOf over the held slots. */
  private bytesHeld = 0;

  /**
   * `messagesMax`: messages in flight at most (≥ 1).
   * `bytesMax`: bytes in flight at most; 0 means no byte limit.
   */
  constructor(
    readonly messagesMax: number,
    readonly bytesMax: number,
  ) {
    assert(messagesMax >= 1, 'inflight messagesMax must be at least 1');
    this.indexes = new Array<number>(messagesMax).fill(0);
    this.bytesOf = new Array<number>(messagesMax).fill(0);
  }

  /** Records a message whose last entry is `index` carrying `bytes`; indexes must increase. */
  add(index: number, bytes: number): void {
    assert(!this.full(), 'inflights: add while full');
    if (this.countHeld > 0) {
      const lastSlot = (this.start + this.countHeld - 1) % this.messagesMax;
      assert(index > this.indexes[lastSlot]!, 'inflights: indexes must increase');
    }
    const slot = (this.start + this.countHeld) % this.messagesMax;
    this.indexes[slot] = index;
    this.bytesOf[slot] = bytes;
    this.countHeld++;
    this.bytesHeld += bytes;
  }

  /** Frees every message whose last index is ≤ `index` (they were acknowledged). */
  freeLE(index: number): void {
    while (this.countHeld > 0 && this.indexes[this.start]! <= index) {
      this.bytesHeld -= this.bytesOf[this.start]!;
      this.start = (this.start + 1) % this.messagesMax;
      this.countHeld--;
    }
    if (this.countHeld === 0) this.start = 0;
  }

  /** True when no more messages may be sent. */
  full(): boolean {
    return this.countHeld === this.messagesMax || (this.bytesMax > 0 && this.bytesHeld >= this.bytesMax);
  }

  /** Messages in flight. */
  count(): number {
    return this.countHeld;
  }

  /** Bytes in flight. */
  bytes(): number {
    return this.bytesHeld;
  }

  /** Forgets everything in flight (the follower changed state). */
  reset(): void {
    this.start = 0;
    this.countHeld = 0;
    this.bytesHeld = 0;
  }
}
