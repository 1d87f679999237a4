import pg from 'pg';

const TIMESTAMPTZ = 1184;
const ZERO = 48;

/** The digits of `s` from `from` to `to` (exclusive) as a number; NaN if any is not a digit. */
function digits(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return Number.NaN;
    n = n * 10 + d;
  }
  return n;
}

/**
 * A `timestamptz` as PostgreSQL writes it under DateStyle ISO
 * (`2026-12-04 04:28:27.123+00`, `… +05:30`), read without regular
 * expressions: every row of a page carries two, and the driver's general
 * parser was a few per cent of a catalog read. Anything else (infinity, BC,
 * years past 9999, offsets with seconds) returns null: the caller falls back
 * to the general parser. Sub-millisecond digits are dropped, as Date keeps none.
 */
export function parseIsoTimestamptz(s: string): Date | null {
  const n = s.length;
  if (n < 22 || s[4] !== '-' || s[7] !== '-' || s[10] !== ' ' || s[13] !== ':' || s[16] !== ':') return null;
  let i = 19;
  let ms = 0;
  if (s[i] === '.') {
    let end = i + 1;
    while (end < n && s.charCodeAt(end) >= ZERO && s.charCodeAt(end) <= ZERO + 9) end++;
    if (end === i + 1) return null;
    const kept = Math.min(end, i + 4);
    ms = digits(s, i + 1, kept) * 10 ** (i + 4 - kept);
    i = end;
  }
  const sign = s[i] === '+' ? 1 : s[i] === '-' ? -1 : 0;
  if (sign === 0) return null;
  let offsetMinutes: number;
  if (n === i + 3) offsetMinutes = digits(s, i + 1, i + 3) * 60;
  else if (n === i + 6 && s[i + 3] === ':') offsetMinutes = digits(s, i + 1, i + 3) * 60 + digits(s, i + 4, i + 6);
  else return null;
  const year = digits(s, 0, 4);
  // Date.UTC reads years 0-99 as 1900-1999: leave those to the general parser.
  if (!(year >= 100)) return null;
  const t = Date.UTC(year, digits(s, 5, 7) - 1, digits(s, 8, 10), digits(s, 11, 13), digits(s, 14, 16), digits(s, 17, 19), ms);
  if (Number.isNaN(t) || Number.isNaN(offsetMinutes)) return null;
  return new Date(t - sign * offsetMinutes * 60_000);
}

let installed = false;

/** Makes the `pg` driver read timestamptz values with parseIsoTimestamptz, falling back to its own parser. */
export function installTimestampParser(): void {
  if (installed) return;
  installed = true;
  const general = pg.types.getTypeParser(TIMESTAMPTZ, 'text') as (value: string) => unknown;
  pg.types.setTypeParser(TIMESTAMPTZ, 'text', (value: string) => parseIsoTimestamptz(value) ?? general(value));
}
