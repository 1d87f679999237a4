/**
 * Local hour of day and day of week of an instant in an IANA time zone,
 * for CTR features and delivery windows. Intl is slow per call (a few
 * microseconds), and a training encodes a million impressions, so the
 * zone's UTC offset is cached per quarter hour: every offset change in the
 * time-zone database falls on a quarter-hour boundary.
 */

const QUARTER_HOUR_MS = 15 * 60_000;
const MAX_CACHED = 200_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsets = new Map<string, number>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The zone's offset from UTC at `ms`, in ms (local = UTC + offset). */
export function utcOffsetMs(timeZone: string, ms: number): number {
  const quarter = Math.floor(ms / QUARTER_HOUR_MS);
  const key = `${timeZone}|${quarter}`;
  const cached = offsets.get(key);
  if (cached !== undefined) return cached;
  const at = quarter * QUARTER_HOUR_MS;
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(at))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const local = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute);
  const offset = local - at;
  if (offsets.size >= MAX_CACHED) offsets.clear();
  offsets.set(key, offset);
  return offset;
}

/** Hour 0..23 and day of week 0..6 (0 = Sunday) at `ms` in `timeZone`. */
export function localClock(timeZone: string, ms: number): { hourOfDay: number; dayOfWeek: number } {
  const local = new Date(ms + utcOffsetMs(timeZone, ms));
  return { hourOfDay: local.getUTCHours(), dayOfWeek: local.getUTCDay() };
}

/**
 * Whether local hour `hour` is inside a daily window of hours start..end,
 * both included (21..23 is 21:00 to 23:59; 22..1 wraps past midnight;
 * start = end is that one hour).
 */
export function inDailyWindow(hour: number, start: number, end: number): boolean {
  return start <= end ? hour >= start && hour <= end : hour >= start || hour <= end;
}
