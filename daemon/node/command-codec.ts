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
  return JSON.parse(decoder.decode(data)) as PoolCommand;
}
