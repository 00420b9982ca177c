// A bounded FIFO of messages waiting for one peer's connection. When a bound
// is hit the oldest messages go first: Raft tolerates loss, and the newest
// messages (higher terms, later commits) are the ones worth delivering.
import type { Message } from '../raft/types.ts';

/** A FIFO bounded in messages and bytes; drops the oldest on overflow. */
export class SendQueue {
  private items: Message[] = [];
  private itemBytes: number[] = [];
  /** Index of the oldest live item. Invariant: head <= items.length. */
  private head = 0;
  /** Messages queued. Invariant: messages === items.length - head <= messagesMax. */
  messages = 0;
  /** Sum of the queued messages' byte bounds. Invariant: bytes <= bytesMax, or one message queued alone. */
  bytes = 0;

  constructor(
    /** Messages queued, at most. */
    readonly messagesMax: number,
    /** Bytes queued (by messageBytesBound), at most. */
    readonly bytesMax: number,
  ) {}

  /**
   * Appends `message` of `bytes`; returns how many messages were dropped
   * (oldest first, possibly this one), each also passed to `onDrop`.
   */
  push(message: Message, bytes: number, onDrop: (dropped: Message) => void): number {
    if (bytes > this.bytesMax) {
      onDrop(message);
      return 1;
    }
    let dropped = 0;
    this.items.push(message);
    this.itemBytes.push(bytes);
    this.messages += 1;
    this.bytes += bytes;
    while (this.messages > this.messagesMax || this.bytes > this.bytesMax) {
      onDrop(this.items[this.head] as Message);
      this.shift();
      dropped += 1;
    }
    return dropped;
  }

  /** The oldest message and its bytes, without removing it. */
  peek(): { readonly message: Message; readonly bytes: number } | undefined {
    if (this.messages === 0) return undefined;
    return { message: this.items[this.head] as Message, bytes: this.itemBytes[this.head] as number };
  }

  /** Removes the oldest message. */
  shift(): void {
    if (this.messages === 0) return;
    this.bytes -= this.itemBytes[this.head] as number;
    this.messages -= 1;
    this.head += 1;
    if (this.messages === 0) {
      this.items = [];
      this.itemBytes = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.itemBytes = this.itemBytes.slice(this.head);
      this.head = 0;
    }
  }

  /** Empties the queue, passing each message to `onDrop`; returns how many it held. */
  clear(onDrop: (dropped: Message) => void): number {
    const n = this.messages;
    for (let i = this.head; i < this.items.length; i++) onDrop(this.items[i] as Message);
    this.items = [];
    this.itemBytes = [];
    this.head = 0;
    this.messages = 0;
    this.bytes = 0;
    return n;
  }
}
