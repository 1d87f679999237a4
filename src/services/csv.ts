import type { Money } from '../schema/common.types';

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line
 * break; text a spreadsheet would run as a formula (=, +, -, @ first) is
 * prefixed with '. Numbers as JavaScript prints them; null as an empty field.
 */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One CSV line, CRLF-terminated. */
export const csvLine = (fields: readonly (string | number | null)[]): string => fields.map(csvField).join(',') + '\r\n';

/** Amounts per currency in one field, minor units: `USD:12900;CNY:89900` (empty with none). */
export const moneyField = (amounts: readonly Money[]): string => amounts.map((m) => `${m.currency}:${m.amountMinor}`).join(';');
