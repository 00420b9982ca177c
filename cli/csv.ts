// CSV for `floe usage --csv` (RFC 4180: comma separated, CRLF line ends,
// fields with a comma, quote or line break quoted, quotes doubled). User and
// host names come from client applications, so a field that a spreadsheet
// would take for a formula (= + - @ tab CR first) gets a leading apostrophe
// (OWASP's advice on CSV injection); numbers are written as they are.

const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV field. */
export function csvField(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** One CSV record with its CRLF. */
export function csvRecord(fields: readonly (string | number)[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}
