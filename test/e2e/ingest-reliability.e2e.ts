import fc from 'fast-check';
import { expected, type Ev } from '../support/metrics';
import { TestApp, type TestBrand } from '../support/server';

const RECORD = `mutation($events: [EventInput!]!) { recordEvents(events: $events) { accepted duplicates rejected { index code } } }`;
const SNAPSHOT = `{ metrics(window: LAST_30_DAYS) { at revenue { amountMinor currency } purchases refunds impressions clicks ctr conversions conversionRate satisfaction ratings activeLearners } }`;

/**
 * 20 clients send the same 5,000 events at once, in overlapping batches of
 * random sizes and orders, retrying some: exactly 5,000 are stored, and the
 * metrics equal a direct computation over the input.
 */
describe('ingestion under concurrent retries', () => {
  let app: TestApp;
  let brand: TestBrand;

  beforeAll(async () => {
    app = await TestApp.start();
    brand = await app.brand('Retry Academy');
  });
  afterAll(() => app.stop());

  it('stores each of 5,000 events exactly once', async () => {
    const course = await app.course(brand, { title: 'Retried course' });
    const campaign = (await app.ok(brand.token, `mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { id } }`, {
      i: { name: 'Retried campaign', kind: 'EMAIL', startsAt: '2026-01-01T00:00:00Z', budget: { amountMinor: 1, currency: 'USD' } },
    })).createCampaign.id;
    const now = Date.now();
    const [shape] = fc.sample(
      fc.array(
        fc.record({
          type: fc.constantFrom('IMPRESSION', 'IMPRESSION', 'IMPRESSION', 'CLICK', 'VIEW', 'PURCHASE', 'RATING'),
          learner: fc.integer({ min: 1, max: 400 }),
          minutesAgo: fc.integer({ min: 1, max: 60 * 24 * 20 }),
          withCampaign: fc.boolean(),
          amount: fc.integer({ min: 100, max: 50_000 }),
          rating: fc.integer({ min: 1, max: 5 }),
        }),
        { minLength: 5000, maxLength: 5000 },
      ),
      { numRuns: 1, seed: 7 },
    );
    const events: Ev[] = shape.map((g, i) => {
      const e: Ev = { idempotencyKey: `r-${i}`, type: g.type, learnerExternalId: `learner-${g.learner}`, occurredAt: new Date(now - g.minutesAgo * 60_000).toISOString() };
      if (g.type === 'CLICK' && g.withCampaign) e.campaignId = campaign;
      if (g.type === 'PURCHASE') Object.assign(e, { courseId: course, amount: { amountMinor: g.amount, currency: 'USD' } });
      if (g.type === 'RATING') e.rating = g.rating;
      return e;
    });

    const clients = fc.sample(
      fc.record({ seed: fc.nat(), batch: fc.integer({ min: 200, max: 1000 }), retries: fc.integer({ min: 0, max: 3 }) }),
      { numRuns: 20, seed: 11 },
    );
    let sent = 0;
    let accepted = 0;
    await Promise.all(
      clients.map(async ({ seed, batch, retries }) => {
        // Each client sends everything, starting at its own offset.
        const start = seed % events.length;
        const order = [...events.slice(start), ...events.slice(0, start)];
        const batches: Ev[][] = [];
        for (let i = 0; i < order.length; i += batch) batches.push(order.slice(i, i + batch));
        for (let r = 0; r < retries; r++) batches.push(batches[(seed + r) % batches.length]);
        for (const b of batches) {
          let res = await app.gql(brand.token, RECORD, { events: b });
          // A busy pool answers RATE_LIMITED, nothing stored; a client sends the same batch again, as it is told to.
          while (res.errors?.[0]?.extensions.code === 'RATE_LIMITED') {
            await new Promise((resolve) => setTimeout(resolve, 250));
            res = await app.gql(brand.token, RECORD, { events: b });
          }
          expect(res.errors).toBeUndefined();
          const out = res.data.recordEvents;
          expect(out.rejected).toEqual([]);
          expect(out.accepted + out.duplicates).toBe(b.length);
          sent += b.length;
          accepted += out.accepted;
        }
      }),
    );
    expect(sent).toBeGreaterThanOrEqual(100_000);
    expect(accepted).toBe(5000);
    const [{ n }] = await app.sql('select count(*)::int as n from events where tenant_id = $1', [brand.id]);
    expect(n).toBe(5000);

    const snap = (await app.ok(brand.token, SNAPSHOT)).metrics;
    const to = Date.parse(snap.at);
    const want = expected(events, to - 30 * 24 * 3_600_000, to);
    for (const k of ['ctr', 'conversionRate', 'satisfaction'] as const) expect(snap[k]).toBeCloseTo(want[k] as number, 10);
    const { ctr: _c, conversionRate: _r, satisfaction: _s, at: _a, ...rest } = snap;
    const { ctr: _c2, conversionRate: _r2, satisfaction: _s2, ...wantRest } = want;
    expect(rest).toEqual(wantRest);
  });
});
