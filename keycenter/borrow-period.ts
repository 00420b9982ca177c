// How a line's, a code's or a key's borrowing reads to people: the CLI, the
// portal and the mails say it the same way ("borrowable up to 72 h (3 days)").
// FlexNet calls it BORROW, RLM roaming, Sentinel commuter licenses; Floe
// writes `borrowAllowed`/`borrowHoursMax` into the key (protocol/license-payload.ts).

/** "borrowable up to 168 h (7 days)", or "not borrowable"; `hours`: the longest borrow, null for none. */
export function describeBorrowPeriod(hours: number | null): string {
  if (hours === null) return 'not borrowable';
  const days = hours / 24;
  const inDays = Number.isInteger(days) ? ` (${days} ${days === 1 ? 'day' : 'days'})` : '';
  return `borrowable up to ${hours} h${inDays}`;
}
