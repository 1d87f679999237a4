import pg from 'pg';
import { parseIsoTimestamptz } from '../../src/db/timestamps';

/** What the pg driver's own parser reads (postgres-date), the reference. */
const general = (s: string) => (pg.types.getTypeParser(1184, 'text') as (v: string) => unknown)(s);

describe('reading timestamptz values', () => {
  it('reads what PostgreSQL writes exactly as the driver does', () => {
    const samples = [
      '2026-12-04 04:28:27+00',
      '2026-12-04 04:28:27.1+00',
      '2026-12-04 04:28:27.12+00',
      '2026-12-04 04:28:27.123+00',
      '2026-12-04 04:28:27.123456+00',
      '2026-12-04 04:28:27.999999+00',
      '2026-01-01 00:00:00-08',
      '2025-06-30 23:59:59.5+05:30',
      '2025-06-30 23:59:59.5-03:30',
      '1970-01-01 00:00:00+00',
      '1900-02-28 12:00:00+14',
      '2024-02-29 12:34:56.789+01',
      '9999-12-31 23:59:59.999+00',
    ];
    for (const s of samples) expect([s, parseIsoTimestamptz(s)?.toISOString()]).toEqual([s, (general(s) as Date).toISOString()]);
  });

  it('agrees with the driver on random instants and offsets', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    for (let k = 0; k < 2000; k++) {
      const t = new Date(Date.UTC(1000, 0, 1) + random() * (Date.UTC(9000, 0, 1) - Date.UTC(1000, 0, 1)));
      const offset = Math.round((random() * 28 - 14) * 4) * 15;
      const local = new Date(t.getTime() + offset * 60_000);
      const fraction = random() < 0.3 ? '' : `.${String(Math.floor(random() * 1e6)).padStart(6, '0').slice(0, 1 + Math.floor(random() * 6))}`;
      const zone = `${offset < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offset) / 60))}${Math.abs(offset) % 60 ? `:${pad(Math.abs(offset) % 60)}` : ''}`;
      const s = `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${fraction}${zone}`;
      expect([s, parseIsoTimestamptz(s)?.getTime()]).toEqual([s, (general(s) as Date).getTime()]);
    }
  });

  it('leaves everything else to the driver', () => {
    for (const s of ['infinity', '-infinity', '0044-03-15 12:00:00+00 BC', '10000-01-01 00:00:00+00', '0099-01-01 00:00:00+00', '1880-01-01 00:00:00+00:19:32', '2026-12-04T04:28:27Z', '2026-12-04 04:28:27', '']) {
      expect([s, parseIsoTimestamptz(s)]).toEqual([s, null]);
    }
  });
});
