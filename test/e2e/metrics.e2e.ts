import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { Random } from '../../src/ml/train/random';
import { Role } from '../../src/tenancy/roles';
import { Q, createAlliance, propose } from '../support/alliances';
import { expected, type Ev } from '../support/metrics';
import { codes, TestApp, type TestBrand } from '../support/server';

const RECORD = `mutation($events: [EventInput!]!) { recordEvents(events: $events) { accepted rejected { index code } } }`;
const SNAPSHOT = `query($w: MetricsWindow, $a: ID) { metrics(window: $w, allianceId: $a) {
  at windowStart revenue { amountMinor currency } purchases refunds impressions clicks ctr conversions conversionRate satisfaction ratings activeLearners } }`;
const HOUR = 3_600_000;

describe('metrics', () => {
  let app: TestApp;
  let a: TestBrand;
  let b: TestBrand;
  let outsider: TestBrand;
  let course: string;
  let campaign: string;
  let seq = 0;
  const key = () => `m-${++seq}`;

  beforeAll(async () => {
    app = await TestApp.start();
    a = await app.brand('Metrics Academy');
    b = await app.brand('Metrics Club');
    outsider = await app.brand('Metrics Outsider');
    course = await app.course(a, { title: 'Measured' });
    campaign = (await app.ok(a.token, `mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { id } }`, {
      i: { name: 'Measured campaign', kind: 'AD_PLACEMENT', startsAt: '2026-01-01T00:00:00Z', budget: { amountMinor: 1, currency: 'USD' } },
    })).createCampaign.id;
  });
  afterAll(() => app.stop());

  const close = (actual: any, wanted: any) => {
    for (const k of ['ctr', 'conversionRate', 'satisfaction']) {
      if (wanted[k] === null) expect(actual[k]).toBeNull();
      else expect(actual[k]).toBeCloseTo(wanted[k], 10);
    }
    const pick = ({ ctr: _c, conversionRate: _r, satisfaction: _s, at: _a, windowStart: _w, ...rest }: any) => rest;
    expect(pick(actual)).toEqual(pick(wanted));
  };

  it('equals a direct computation over generated events, for every window', async () => {
    const now = Date.now();
    const learners = ['l1', 'l2', 'l3', 'l4', 'l5'];
    const [events] = fc.sample(
      fc.array(
        fc.record({
          type: fc.constantFrom('IMPRESSION', 'IMPRESSION', 'CLICK', 'VIEW', 'PURCHASE', 'RATING'),
          learner: fc.constantFrom(...learners),
          hoursAgo: fc.double({ min: 0.05, max: 24 * 40, noNaN: true }),
          withCampaign: fc.boolean(),
          amount: fc.integer({ min: 1, max: 100_000 }),
          currency: fc.constantFrom('USD', 'CNY'),
          rating: fc.integer({ min: 1, max: 5 }),
        }),
        { minLength: 150, maxLength: 150 },
      ),
      { numRuns: 1, seed: 42 },
    );
    const generated: Ev[] = events.map((g) => {
      const e: Ev = { idempotencyKey: key(), type: g.type, learnerExternalId: g.learner, occurredAt: new Date(now - g.hoursAgo * HOUR).toISOString() };
      if (g.type === 'CLICK' && g.withCampaign) e.campaignId = campaign;
      if (g.type === 'PURCHASE') Object.assign(e, { courseId: course, amount: { amountMinor: g.amount, currency: g.currency }, campaignId: g.withCampaign && g.amount % 3 === 0 ? campaign : undefined });
      if (g.type === 'RATING') e.rating = g.rating;
      return e;
    });
    const purchases = generated.filter((e) => e.type === 'PURCHASE').slice(0, 4);
    for (const p of purchases) {
      generated.push({ idempotencyKey: key(), type: 'REFUND', learnerExternalId: p.learnerExternalId, occurredAt: new Date(Date.parse(p.occurredAt) + 60_000).toISOString(), courseId: course, refundOf: p.idempotencyKey, amount: { amountMinor: Math.ceil(p.amount!.amountMinor / 2), currency: p.amount!.currency } });
    }
    const result = await app.ok(a.token, RECORD, { events: generated });
    expect(result.recordEvents).toEqual({ accepted: generated.length, rejected: [] });

    for (const [window, hours] of [['LAST_HOUR', 1], ['LAST_24_HOURS', 24], ['LAST_7_DAYS', 24 * 7], ['LAST_30_DAYS', 24 * 30]] as const) {
      const snap = (await app.ok(a.token, SNAPSHOT, { w: window })).metrics;
      const to = Date.parse(snap.at);
      expect(to - Date.parse(snap.windowStart)).toBe(hours * HOUR);
      close(snap, expected(generated, to - hours * HOUR, to));
    }
    const byDefault = (await app.ok(a.token, '{ metrics { windowStart at } }')).metrics;
    expect(Date.parse(byDefault.at) - Date.parse(byDefault.windowStart)).toBe(24 * HOUR);
  });

  it('series: every bucket, empty ones included, summing to the same figures', async () => {
    const brand = await app.brand('Series Co');
    const c = await app.course(brand, { title: 'Series course' });
    const day = (d: number, h: number) => new Date(Date.UTC(2026, 2, d, h)).toISOString();
    const events: Ev[] = [
      { idempotencyKey: 's1', type: 'PURCHASE', learnerExternalId: 'x', occurredAt: day(2, 9), courseId: c, amount: { amountMinor: 100, currency: 'USD' } },
      { idempotencyKey: 's2', type: 'PURCHASE', learnerExternalId: 'y', occurredAt: day(2, 23), courseId: c, amount: { amountMinor: 50, currency: 'USD' } },
      { idempotencyKey: 's3', type: 'RATING', learnerExternalId: 'x', occurredAt: day(4, 1), courseId: c, rating: 3 },
      { idempotencyKey: 's4', type: 'IMPRESSION', learnerExternalId: 'z', occurredAt: day(4, 2) },
    ];
    await app.ok(brand.token, RECORD, { events });
    const q = `query($f: DateTime!, $t: DateTime!, $b: MetricsBucket) { metricsSeries(from: $f, to: $t, bucket: $b) { from to bucket points { bucketStart purchases impressions satisfaction ratings revenue { amountMinor currency } } } }`;
    const days = (await app.ok(brand.token, q, { f: day(1, 12), t: day(5, 0) })).metricsSeries;
    expect(days.bucket).toBe('DAY');
    expect(days.points.map((p: any) => [p.bucketStart.slice(0, 10), p.purchases, p.impressions, p.satisfaction, p.revenue])).toEqual([
      ['2026-03-01', 0, 0, null, []],
      ['2026-03-02', 2, 0, null, [{ amountMinor: 150, currency: 'USD' }]],
      ['2026-03-03', 0, 0, null, []],
      ['2026-03-04', 0, 1, 0.5, []],
    ]);
    const hours = (await app.ok(brand.token, q, { f: day(2, 0), t: day(3, 0), b: 'HOUR' })).metricsSeries.points;
    expect(hours).toHaveLength(24);
    expect(hours[9].purchases + hours[23].purchases).toBe(2);
    const weeks = (await app.ok(brand.token, q, { f: day(1, 0), t: day(20, 0), b: 'WEEK' })).metricsSeries.points;
    expect(weeks.map((p: any) => p.bucketStart.slice(0, 10))).toEqual(['2026-02-23', '2026-03-02', '2026-03-09', '2026-03-16']);
    expect(weeks.reduce((s: number, p: any) => s + p.purchases, 0)).toBe(2);

    expect(codes(await app.gql(brand.token, q, { f: day(3, 0), t: day(2, 0) }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await app.gql(brand.token, q, { f: '2020-01-01T00:00:00Z', t: '2026-01-01T00:00:00Z', b: 'HOUR' }))).toEqual(['BAD_USER_INPUT']);
  });

  it('exports metricsSeries as CSV, one row per bucket, streamed past the size of one series call', async () => {
    const brand = await app.brand('Export Co');
    const c = await app.course(brand, { title: 'Exported course' });
    const from = new Date(Date.UTC(2026, 0, 3, 7, 30)); // not on an hour: the first bucket is partial, as in metricsSeries
    const to = new Date(Date.UTC(2026, 4, 1)); // 2,825 hours: two ranges of the export
    const random = new Random(5);
    const kinds = ['PURCHASE', 'IMPRESSION', 'RATING'];
    const events: Ev[] = Array.from({ length: 120 }, (_, i) => {
      const e: Ev = { idempotencyKey: `x-${i}`, type: kinds[random.int(3)], learnerExternalId: `x${i % 7}`, occurredAt: new Date(from.getTime() + random.int(to.getTime() - from.getTime())).toISOString() };
      if (e.type === 'PURCHASE') Object.assign(e, { courseId: c, amount: { amountMinor: 1 + random.int(90_000), currency: random.int(2) ? 'USD' : 'CNY' } });
      if (e.type === 'RATING') Object.assign(e, { courseId: c, rating: 1 + random.int(5) });
      return e;
    });
    // Two events before the range and one at its end: outside every row.
    events.push({ idempotencyKey: 'x-before', type: 'IMPRESSION', learnerExternalId: 'x0', occurredAt: new Date(from.getTime() - 60_000).toISOString() });
    events.push({ idempotencyKey: 'x-hour', type: 'IMPRESSION', learnerExternalId: 'x0', occurredAt: new Date(Date.UTC(2026, 0, 3, 7, 10)).toISOString() });
    events.push({ idempotencyKey: 'x-end', type: 'IMPRESSION', learnerExternalId: 'x0', occurredAt: to.toISOString() });
    expect((await app.ok(brand.token, RECORD, { events })).recordEvents.accepted).toBe(events.length);

    const url = `/exports/metrics.csv?from=${from.toISOString()}&to=${to.toISOString()}&bucket=HOUR`;
    const res = await app.http.get(url).set('authorization', `Bearer ${brand.token}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const [header, ...rows] = res.text.split('\r\n').slice(0, -1).map((r) => r.split(','));
    expect(header).toEqual(['bucket_start', 'impressions', 'clicks', 'conversions', 'purchases', 'ratings', 'satisfaction', 'revenue']);
    expect(rows).toHaveLength(2825);

    // The same rows as metricsSeries in pieces cut elsewhere than the export's ranges.
    const q = `query($f: DateTime!, $t: DateTime!) { metricsSeries(from: $f, to: $t, bucket: HOUR) { points { bucketStart impressions clicks conversions purchases ratings satisfaction revenue { amountMinor currency } } } }`;
    const cuts = [from.getTime(), Date.UTC(2026, 1, 10), Date.UTC(2026, 2, 20), to.getTime()];
    const points: any[] = [];
    for (let i = 0; i + 1 < cuts.length; i++) {
      points.push(...(await app.ok(brand.token, q, { f: new Date(cuts[i]).toISOString(), t: new Date(cuts[i + 1]).toISOString() })).metricsSeries.points);
    }
    const asRow = (p: any) => [p.bucketStart, p.impressions, p.clicks, p.conversions, p.purchases, p.ratings, p.satisfaction ?? '', p.revenue.map((m: any) => `${m.currency}:${m.amountMinor}`).join(';')].map(String);
    expect(rows).toEqual(points.map(asRow));

    // And the totals of a direct computation over the generated events in [from, to).
    const inside = events.filter((e) => Date.parse(e.occurredAt) >= from.getTime() && Date.parse(e.occurredAt) < to.getTime());
    expect(rows.reduce((n, r) => n + Number(r[1]), 0)).toBe(inside.filter((e) => e.type === 'IMPRESSION').length);
    expect(rows.reduce((n, r) => n + Number(r[4]), 0)).toBe(inside.filter((e) => e.type === 'PURCHASE').length);
    const revenue = new Map<string, number>();
    for (const r of rows) for (const m of r[7] ? r[7].split(';') : []) revenue.set(m.split(':')[0], (revenue.get(m.split(':')[0]) ?? 0) + Number(m.split(':')[1]));
    for (const currency of ['USD', 'CNY']) {
      expect(revenue.get(currency)).toBe(inside.filter((e) => e.amount?.currency === currency).reduce((n, e) => n + e.amount!.amountMinor, 0));
    }

    const days = await app.http.get(`/exports/metrics.csv?from=${from.toISOString()}&to=${to.toISOString()}`).set('authorization', `Bearer ${brand.token}`);
    expect(days.text.split('\r\n')[1].split(',')[0]).toBe('2026-01-03T00:00:00.000Z');
    expect(days.text.split('\r\n').length - 2).toBe(118); // 3 January to 30 April
  });

  it('refuses exports as the GraphQL fields refuse, with their codes and HTTP statuses', async () => {
    const range = 'from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z';
    const get = (query: string, token: string | null) => {
      const req = app.http.get(`/exports/metrics.csv?${query}`);
      return token ? req.set('authorization', `Bearer ${token}`) : req;
    };
    const refusal = async (query: string, token: string | null) => {
      const res = await get(query, token);
      return [res.status, res.body.errors?.[0]?.extensions?.code];
    };
    expect(await refusal(range, null)).toEqual([401, 'UNAUTHENTICATED']);
    expect(await refusal(range, app.token(a.id, [Role.INGEST]))).toEqual([403, 'FORBIDDEN']);
    expect(await refusal(range, app.adminToken)).toEqual([403, 'FORBIDDEN']);
    expect(await refusal('to=2026-03-02T00:00:00Z', a.token)).toEqual([400, 'BAD_USER_INPUT']);
    expect(await refusal('from=yesterday&to=2026-03-02T00:00:00Z', a.token)).toEqual([400, 'BAD_USER_INPUT']);
    expect(await refusal(`${range}&bucket=MINUTE`, a.token)).toEqual([400, 'BAD_USER_INPUT']);
    expect(await refusal('from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z', a.token)).toEqual([400, 'BAD_USER_INPUT']);
    expect(await refusal('from=1900-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&bucket=HOUR', a.token)).toEqual([400, 'BAD_USER_INPUT']);
    const allianceId = await createAlliance(app, a, [b], 'Exported alliance');
    expect(await refusal(`${range}&allianceId=${allianceId}`, outsider.token)).toEqual([404, 'NOT_FOUND']);
    expect(await refusal(`${range}&allianceId=not-an-id`, outsider.token)).toEqual([404, 'NOT_FOUND']);
    expect((await get(`${range}&allianceId=${allianceId}`, a.token)).status).toBe(200);
    const funnel = await app.http.get(`/exports/funnel.csv?${range}&allianceId=${allianceId}`).set('authorization', `Bearer ${outsider.token}`);
    expect([funnel.status, funnel.body.errors[0].extensions.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('stops an export whose reader goes away, and goes on serving', async () => {
    const { port } = app.server.httpServer.address() as AddressInfo;
    const url = new URL(`http://127.0.0.1:${port}/exports/metrics.csv?from=1930-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&bucket=HOUR`);
    const received = await new Promise<number>((resolve, reject) => {
      const req = http.get(url, { headers: { authorization: `Bearer ${a.token}` } }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > 200_000) {
            req.destroy();
            resolve(bytes);
          }
        });
        res.on('error', () => undefined);
      });
      req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
    });
    expect(received).toBeGreaterThan(200_000);
    expect((await app.ok(a.token, SNAPSHOT, {})).metrics.at).toBeDefined();
  });

  it("alliance figures cover members' joint courses only; outsiders get NOT_FOUND", async () => {
    const allianceId = await createAlliance(app, a, [b], 'Metrics alliance');
    await app.ok(b.token, Q.respond, { a: allianceId, yes: true });
    const v1 = await propose(app, a, allianceId, [[a, 5000], [b, 5000]]);
    await app.ok(b.token, Q.accept, { id: v1.id });
    const joint = await app.course(a, { title: 'Joint measured', allianceId });
    const own = await app.course(b, { title: 'B only' });
    const recent = new Date(Date.now() - HOUR).toISOString();
    const sale = (brandCourse: string, amountMinor: number, learner: string) => ({ idempotencyKey: key(), type: 'PURCHASE', learnerExternalId: learner, occurredAt: recent, courseId: brandCourse, amount: { amountMinor, currency: 'EUR' } });
    await app.ok(a.token, RECORD, { events: [sale(joint, 700, 'a-learner'), { idempotencyKey: key(), type: 'RATING', learnerExternalId: 'a-learner', occurredAt: recent, courseId: joint, rating: 5 }] });
    await app.ok(b.token, RECORD, { events: [sale(joint, 300, 'b-learner'), sale(own, 9999, 'b-learner')] });

    const alliance = (await app.ok(b.token, SNAPSHOT, { a: allianceId })).metrics;
    expect(alliance).toMatchObject({ revenue: [{ amountMinor: 1000, currency: 'EUR' }], purchases: 2, ratings: 1, satisfaction: 1, activeLearners: 2 });
    const bOwn = (await app.ok(b.token, SNAPSHOT, {})).metrics;
    expect(bOwn.revenue).toEqual([{ amountMinor: 10299, currency: 'EUR' }]);
    expect(codes(await app.gql(outsider.token, SNAPSHOT, { a: allianceId }))).toEqual(['NOT_FOUND']);
    expect(codes(await app.gql(outsider.token, SNAPSHOT, { a: 'nope' }))).toEqual(['NOT_FOUND']);
    expect(codes(await app.gql(app.adminToken, SNAPSHOT, {}))).toEqual(['FORBIDDEN']);
    const empty = (await app.ok(outsider.token, SNAPSHOT, {})).metrics;
    expect(empty).toMatchObject({ revenue: [], purchases: 0, ctr: 0, conversionRate: 0, satisfaction: null, activeLearners: 0 });
  });
});
