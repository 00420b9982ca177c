// Pool commands as Raft entry data: UTF-8 JSON. The leader stamps `at`
// before encoding; every node decodes the same bytes to the same command.
import type { PoolCommand } from '../pool/index.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A pool command before the leader stamps its time. */
export type UnstampedCommand = PoolCommand extends infer C ? (C extends PoolCommand ? Omit<C, 'at'> : never) : never;

/** Entry data of a stamped command. */
export function encodeCommand(command: PoolCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

/** The command in an entry's data (written by encodeCommand; the log is trusted). */
export function decodeCommand(data: Uint8Array): PoolCommand {
  return decodeEntryData(data).command;
}

/** First byte of a forwarded command's entry data ('F'); a plain command's JSON starts with '{'. */
const TAGGED_PREFIX = 0x46;
const NEWLINE = 0x0a;

/**
 * Entry data of a command a follower forwarded: `F<tag>\n<json>`. The tag
 * names the origin's pending proposal; the origin resolves it when it applies
 * the entry. Tags are ASCII without newlines.
 */
export function encodeTaggedCommand(tag: string, command: PoolCommand): Uint8Array {
  return encoder.encode(`F${tag}\n${JSON.stringify(command)}`);
}

/** The command in an entry's data and, for a forwarded one, its origin's tag. */
export function decodeEntryData(data: Uint8Array): { command: PoolCommand; tag: string | undefined } {
  if (data[0] !== TAGGED_PREFIX) return { command: JSON.parse(decoder.decode(data)) as PoolCommand, tag: undefined };
  const end = data.indexOf(NEWLINE);
  if (end < 0) throw new Error('assert: a tagged entry without its newline');
  return { tag: decoder.decode(data.subarray(1, end)), command: JSON.parse(decoder.decode(data.subarray(end + 1))) as PoolCommand };
}
