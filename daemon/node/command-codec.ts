// Log commands as Raft entry data: UTF-8 JSON. The leader stamps `at`
// before encoding; every node decodes the same bytes to the same command.
// A command belongs to the seat-pool state machine or to its sibling, the
// admin state machine (tokens, audit log); either may carry the `actor` of
// the admin token that asked for it.
import type { AdminApplyResult, AdminCommand, Audited } from '../admin-state/index.ts';
import type { ApplyResult, PoolCommand } from '../pool/index.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A command of the replicated log: the pool's or the admin state's, perhaps audited. */
export type LogCommand = (PoolCommand | AdminCommand) & Audited;

/** What applying a log command yields: the pool's result or the admin state's. */
export type NodeResult = ApplyResult | AdminApplyResult;

/** A pool command before the leader stamps its time. */
export type UnstampedCommand = PoolCommand extends infer C ? (C extends PoolCommand ? Omit<C, 'at'> : never) : never;

/** An admin-state command before the leader stamps its time. */
export type UnstampedAdminCommand = AdminCommand extends infer C ? (C extends AdminCommand ? Omit<C, 'at'> : never) : never;

/** Any log command before the leader stamps its time. */
export type UnstampedLogCommand = (UnstampedCommand | UnstampedAdminCommand) & Audited;

/** Entry data of a stamped command. */
export function encodeCommand(command: LogCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

/** The command in an entry's data (written by encodeCommand; the log is trusted). */
export function decodeCommand(data: Uint8Array): LogCommand {
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
export function encodeTaggedCommand(tag: string, command: LogCommand): Uint8Array {
  return encoder.encode(`F${tag}\n${JSON.stringify(command)}`);
}

/** The command in an entry's data and, for a forwarded one, its origin's tag. */
export function decodeEntryData(data: Uint8Array): { command: LogCommand; tag: string | undefined } {
  if (data[0] !== TAGGED_PREFIX) return { command: JSON.parse(decoder.decode(data)) as LogCommand, tag: undefined };
  const end = data.indexOf(NEWLINE);
  if (end < 0) throw new Error('assert: a tagged entry without its newline');
  return { tag: decoder.decode(data.subarray(1, end)), command: JSON.parse(decoder.decode(data.subarray(end + 1))) as LogCommand };
}
