import fc from 'fast-check';
import { activeAlliance } from '../support/alliances';
import { allianceRevenueEvents, campaignFigures, netRevenue, type SentEvent, type World } from '../support/attribution';
import { TestApp, type TestBrand } from '../support/server';

const RECORD = `mutation($events: [EventInput!]!) { recordEvents(events: $events) { accepted rejected { index code } } }`;
const CREATE = `mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { id attributionWindowDays } }`;
const METRICS = `query($id: ID!) { campaign(id: $id) { id metrics {
  impressions clicks ctr conversions conversionRate spend { amountMinor currency } revenue { amountMinor currency } roi } } }`;
const SPEND = `mutation($c: ID!, $a: MoneyInput!) { recordCampaignSpend(campaignId: $c, amount: $a, occurredAt: "2026-06-01T00:00:00Z") { id } }`;
const HOUR = 3_600_000;

/**
 * Campaign.metrics and alliance revenue against the attribution rule computed
 * directly over the events sent: named campaigns, last click within each
 * campaign's own window, joint courses and campaigns, refunds following their
 * purchase — across two brands of an alliance.
 */
describe('campaign metrics and attribution', () => {
  let app: TestApp;
  let x: TestBrand;
  let y: TestBrand;
  let allianceId: string;
  const world: World = { campaigns: new Map(), courseAlliance: new Map() };
  const courses: Record<string, string> = {};
  const campaigns: Record<string, string> = {};
  let seq = 0;
  const key = () => `cm-${++seq}`;

  const campaign = async (brand: TestBrand, name: string, windowDays: number | null, joint: boolean) => {
    const input: Record<string, unknown> = { name, kind: 'JOINT_MARKETING', startsAt: '2026-01-01T00:00:00Z', budget: { amountMinor: 100000, currency: 'USD' } };
    if (windowDays != null) input.attributionWindowDays = windowDays;
    if (joint) input.allianceId = allianceId;
    const created = (await app.ok(brand.token, CREATE, { i: input })).createCampaign;
    expect(created.attributionWindowDays).toBe(windowDays ?? 7);
    world.campaigns.set(created.id, { windowDays: windowDays ?? 7, alliance: joint ? allianceId : null });
    return created.id as string;
  };
  const course = async (brand: TestBrand, title: string, joint: boolean) => {
    const id = await app.course(brand, joint ? { title, allianceId } : { title });
    world.courseAlliance.set(id, joint ? allianceId : null);
    return id;
  };

  beforeAll(async () => {
    app = await TestApp.start();
    x = await app.brand('Attribution Academy');
    y = await app.brand('Attribution Club', 'SPORTS_ORGANIZATION');
    ({ allianceId } = await activeAlliance(app, x, [y], [[x, 6000], [y, 4000]]));
    courses.joint = await course(x, 'Joint course', true);
    courses.xOwn = await course(x, 'X own course', false);
    courses.yOwn = await course(y, 'Y own course', false);
    campaigns.joint = await campaign(x, 'Joint campaign', null, true);
    campaigns.xOwn = await campaign(x, 'X short campaign', 2, false);
    campaigns.yJoint = await campaign(y, 'Y one-day joint campaign', 1, true);
  });
  afterAll(() => app.stop());

  it('rejects an attribution window outside 1..90 days', async () => {
    for (const days of [0, 91]) {
      const res = await app.gql(x.token, CREATE, {
        i: { name: 'Bad window', kind: 'EMAIL', startsAt: '2026-01-01T00:00:00Z', budget: { amountMinor: 1, currency: 'USD' }, attributionWindowDays: days },
      });
      expect(res.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    }
  });

  it('a click ingested after the purchase it led to still attributes it', async () => {
    const read = async () => (await app.ok(x.token, METRICS, { id: campaigns.xOwn })).campaign.metrics;
    const before = await read();
    const purchase = { idempotencyKey: key(), type: 'PURCHASE', learnerExternalId: 'late-clicker', occurredAt: '2026-05-01T12:00:00Z', courseId: courses.xOwn, amount: { amountMinor: 2500, currency: 'USD' } };
    await app.ok(x.token, RECORD, { events: [purchase] });
    expect((await read()).conversions).toBe(before.conversions);
    const click = { idempotencyKey: key(), type: 'CLICK', learnerExternalId: 'late-clicker', occurredAt: '2026-05-01T11:00:00Z', campaignId: campaigns.xOwn };
    await app.ok(x.token, RECORD, { events: [click] });
    const after = await read();
    expect(after.conversions).toBe(before.conversions + 1);
    expect(after.clicks).toBe(before.clicks + 1);
  });

  it('equals a direct computation over generated events of both brands', async () => {
    // Events over the 20 days before the last 21: all inside LAST_30_DAYS.
    const t0 = Math.floor((Date.now() - 21 * 24 * HOUR) / 60_000) * 60_000;
    const gen = (brand: TestBrand, own: { course: string; campaign: string }, seed: number): SentEvent[] => {
      const [drawn] = fc.sample(
        fc.array(
          fc.record({
            type: fc.constantFrom('IMPRESSION', 'IMPRESSION', 'CLICK', 'CLICK', 'PURCHASE', 'PURCHASE', 'VIEW'),
            learner: fc.constantFrom('l1', 'l2', 'l3', 'l4'),
            hours: fc.integer({ min: 0, max: 24 * 20 * 60 }).map((m) => m / 60),
            campaign: fc.constantFrom(campaigns.joint, own.campaign, null),
            course: fc.constantFrom(courses.joint, own.course),
            named: fc.integer({ min: 0, max: 4 }),
            amount: fc.integer({ min: 1, max: 50_000 }),
            currency: fc.constantFrom('USD', 'USD', 'EUR'),
          }),
          { minLength: 120, maxLength: 120 },
        ),
        { numRuns: 1, seed },
      );
      const events: SentEvent[] = drawn.map((d) => {
        const e: SentEvent = { brand: brand.id, idempotencyKey: key(), type: d.type, learnerExternalId: d.learner, occurredAt: new Date(t0 + d.hours * HOUR).toISOString() };
        if (d.type === 'CLICK' || d.type === 'IMPRESSION') {
          if (d.campaign) e.campaignId = d.campaign;
        } else if (d.type === 'PURCHASE') {
          Object.assign(e, { courseId: d.course, amount: { amountMinor: d.amount, currency: d.currency } });
          if (d.campaign && d.named === 0) e.campaignId = d.campaign;
        }
        return e;
      });
      const purchases = events.filter((e) => e.type === 'PURCHASE');
      for (const p of purchases.filter((_p, i) => i % 4 === 0)) {
        events.push({ brand: brand.id, idempotencyKey: key(), type: 'REFUND', learnerExternalId: p.learnerExternalId, occurredAt: new Date(Date.parse(p.occurredAt) + 30 * 60_000).toISOString(), courseId: p.courseId, refundOf: p.idempotencyKey, amount: { amountMinor: Math.ceil(p.amount!.amountMinor / 3), currency: p.amount!.currency } });
      }
      return events;
    };
    const xEvents = gen(x, { course: courses.xOwn, campaign: campaigns.xOwn }, 7);
    const yEvents = gen(y, { course: courses.yOwn, campaign: campaigns.yJoint }, 8);
    const strip = ({ brand: _b, ...e }: SentEvent) => e;
    // Purchases first, clicks after: attribution must not depend on arrival order.
    for (const [brand, events] of [[x, xEvents], [y, yEvents]] as const) {
      const order = [...events.filter((e) => e.type !== 'CLICK'), ...events.filter((e) => e.type === 'CLICK')];
      const res = await app.ok(brand.token, RECORD, { events: order.map(strip) });
      expect(res.recordEvents).toEqual({ accepted: order.length, rejected: [] });
    }
    await app.ok(x.token, SPEND, { c: campaigns.joint, a: { amountMinor: 30_000, currency: 'USD' } });
    await app.ok(x.token, SPEND, { c: campaigns.joint, a: { amountMinor: 20_000, currency: 'USD' } });
    await app.ok(y.token, SPEND, { c: campaigns.yJoint, a: { amountMinor: 1_000, currency: 'USD' } });
    await app.ok(y.token, SPEND, { c: campaigns.yJoint, a: { amountMinor: 1_000, currency: 'EUR' } });

    // Only this test's events: the earlier test's learner is in May.
    const all = [...xEvents, ...yEvents];
    const spends: Record<string, { amountMinor: number; currency: string }[]> = {
      [campaigns.joint]: [{ amountMinor: 50_000, currency: 'USD' }],
      [campaigns.yJoint]: [{ amountMinor: 1_000, currency: 'EUR' }, { amountMinor: 1_000, currency: 'USD' }],
    };
    const checks: [TestBrand, string][] = [[x, campaigns.joint], [y, campaigns.joint], [y, campaigns.yJoint], [x, campaigns.yJoint]];
    for (const [reader, id] of checks) {
      const got = (await app.ok(reader.token, METRICS, { id })).campaign.metrics;
      const want = campaignFigures(id, all, world);
      expect(want.conversions).toBeGreaterThan(3);
      expect({ impressions: got.impressions, clicks: got.clicks, conversions: got.conversions, revenue: got.revenue }).toEqual(want);
      expect(got.ctr).toBeCloseTo(want.clicks / want.impressions, 12);
      expect(got.conversionRate).toBeCloseTo(want.conversions / want.clicks, 12);
      expect(got.spend).toEqual(spends[id]);
      if (id === campaigns.joint) {
        const usd = want.revenue.find((m) => m.currency === 'USD')?.amountMinor ?? 0;
        expect(got.roi).toBeCloseTo((usd - 50_000) / 50_000, 12);
      } else {
        expect(got.roi).toBeNull(); // spend in two currencies: no single figure
      }
    }

    // X's own campaign is X's alone.
    expect((await app.ok(y.token, METRICS, { id: campaigns.xOwn })).campaign).toBeNull();

    // The alliance's revenue: joint courses, named joint campaigns, clicks on joint campaigns, refunds following purchases.
    const snap = (await app.ok(x.token, `query($a: ID) { metrics(window: LAST_30_DAYS, allianceId: $a) { at revenue { amountMinor currency } purchases refunds } }`, { a: allianceId })).metrics;
    const to = Date.parse(snap.at);
    const mine = allianceRevenueEvents(allianceId, all, world, to - 30 * 24 * HOUR, to);
    expect(snap.revenue).toEqual(netRevenue(mine));
    expect(snap.purchases).toBe(mine.filter((e) => e.type === 'PURCHASE').length);
    expect(snap.refunds).toBe(mine.filter((e) => e.type === 'REFUND').length);
    const [from, until] = [new Date(t0).toISOString(), new Date(t0 + 21 * 24 * HOUR).toISOString()];
    const series = (await app.ok(y.token, `query($a: ID, $f: DateTime!, $t: DateTime!) { metricsSeries(from: $f, to: $t, bucket: DAY, allianceId: $a) { points { revenue { amountMinor currency } purchases } } }`, { a: allianceId, f: from, t: until })).metricsSeries;
    const total = new Map<string, number>();
    for (const p of series.points) for (const m of p.revenue) total.set(m.currency, (total.get(m.currency) ?? 0) + m.amountMinor);
    const whole = allianceRevenueEvents(allianceId, all, world, t0, Date.parse(until));
    expect([...total].sort().map(([currency, amountMinor]) => ({ amountMinor, currency }))).toEqual(netRevenue(whole));
    // Some revenue reached the alliance only through a click on a joint campaign.
    const viaClick = whole.filter((e) => e.type === 'PURCHASE' && !e.campaignId && world.courseAlliance.get(e.courseId!) === null);
    expect(viaClick.length).toBeGreaterThan(0);
  });
});
