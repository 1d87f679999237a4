import { Random } from '../../src/ml/train/random';
import { fitSatisfaction, MIN_RATINGS } from '../../src/services/impact-model';
import { Role } from '../../src/tenancy/roles';
import { activeAlliance } from '../support/alliances';
import { codes, TestApp, type TestBrand } from '../support/server';

/**
 * Alliance impact against direct computations: a seeded simulation of two
 * member brands' learners (impressions, enrolments, purchases, repeat
 * purchases, ratings) over two fortnights is ingested through the API; the
 * funnel of each scope (brand, own campaign, alliance, joint campaign) and
 * of the fortnight before must equal the same definitions computed here
 * from the generated events. Then planted satisfaction weights, ratings per
 * week: allianceImpact's readings must equal those computed here, and its
 * fit the estimator's on them.
 */

const CAMPAIGN = `mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { id } }`;
const RECORD = `mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted rejected { index code message } } }`;
const FUNNEL = `query($f: DateTime!, $t: DateTime!, $a: ID, $c: ID) { funnel(from: $f, to: $t, allianceId: $a, campaignId: $c) {
  marketSize satisfactionDelta awarenessDelta indexDelta
  current { from to satisfaction ratings awareness index unknown stages { stage count rate countDelta rateDelta } }
  previous { from to satisfaction ratings awareness index unknown stages { stage count rate countDelta rateDelta } } } }`;
const IMPACT = `query($a: ID!, $f: DateTime!, $t: DateTime!, $b: MetricsBucket) { allianceImpact(allianceId: $a, from: $f, to: $t, bucket: $b) {
  memberIds points { bucketStart uplift usable joint { satisfaction ratings } members { brandId satisfaction ratings } }
  fit { model points residualDegreesOfFreedom rSquared reason coefficients { name brandId estimate standardError low high } } } }`;
const MARKET = `mutation($s: SafeInt, $c: ID) { setTargetMarketSize(size: $s, campaignId: $c) { campaignId size } }`;

const EARLIER = Date.parse('2026-02-10T00:00:00Z');
const PREVIOUS = Date.parse('2026-03-01T00:00:00Z');
const FROM = Date.parse('2026-03-15T00:00:00Z');
const TO = Date.parse('2026-03-29T00:00:00Z');

interface Generated {
  brand: 'lead' | 'partner';
  type: string;
  learner: string;
  at: number;
  course?: string;
  campaign?: string;
  rating?: number;
  amountMinor?: number;
}

describe('alliance impact', () => {
  let app: TestApp;
  let lead: TestBrand;
  let partner: TestBrand;
  let outsider: TestBrand;
  let allianceId: string;
  let leadOwn: string;
  let partnerOwn: string;
  let joint: string;
  let ownCampaign: string;
  let jointCampaign: string;
  let outsiderCampaign: string;
  const generated: Generated[] = [];
  let seq = 0;

  const record = async (brand: TestBrand, events: Generated[]) => {
    for (let i = 0; i < events.length; i += 1000) {
      const batch = events.slice(i, i + 1000).map((g) => ({
        type: g.type,
        idempotencyKey: `imp-${++seq}`,
        learnerExternalId: g.learner,
        occurredAt: new Date(g.at).toISOString(),
        ...(g.course ? { courseId: g.course } : {}),
        ...(g.campaign ? { campaignId: g.campaign } : {}),
        ...(g.rating ? { rating: g.rating } : {}),
        ...(g.amountMinor ? { amount: { amountMinor: g.amountMinor, currency: 'USD' } } : {}),
      }));
      const result = (await app.ok(brand.token, RECORD, { e: batch })).recordEvents;
      expect(result.rejected).toEqual([]);
    }
  };

  beforeAll(async () => {
    app = await TestApp.start();
    lead = await app.brand('Impact Lead');
    partner = await app.brand('Impact Partner');
    outsider = await app.brand('Impact Outsider');
    ({ allianceId } = await activeAlliance(app, lead, [partner], [[lead, 6000], [partner, 4000]]));
    leadOwn = await app.course(lead, { title: 'Lead Own' });
    partnerOwn = await app.course(partner, { title: 'Partner Own' });
    joint = await app.course(lead, { title: 'Joint', allianceId });
    const campaign = async (brand: TestBrand, name: string, alliance?: string) =>
      (await app.ok(brand.token, CAMPAIGN, { i: { name, kind: 'JOINT_MARKETING', startsAt: '2026-01-01T00:00:00Z', budget: { amountMinor: 100000, currency: 'USD' }, ...(alliance ? { allianceId: alliance } : {}) } }))
        .createCampaign.id as string;
    ownCampaign = await campaign(lead, 'Lead spring');
    jointCampaign = await campaign(lead, 'Joint spring', allianceId);
    outsiderCampaign = await campaign(outsider, 'Elsewhere');

    // The simulation: planted rates of reaching, enrolling, buying and buying again.
    const random = new Random(17);
    for (const brand of ['lead', 'partner'] as const) {
      const own = brand === 'lead' ? leadOwn : partnerOwn;
      for (let i = 0; i < 160; i++) {
        const learner = `${brand}-${i}`;
        const onJoint = random.next() < 0.4;
        const course = onJoint ? joint : own;
        const campaign = onJoint ? jointCampaign : brand === 'lead' ? ownCampaign : undefined;
        const push = (g: Omit<Generated, 'brand' | 'learner'>) => generated.push({ brand, learner, ...g });
        if (random.next() < 0.25) push({ type: 'VIEW', at: EARLIER + random.int(86_400_000), course });
        const start = random.next() < 0.5 ? PREVIOUS : FROM;
        const at = () => start + random.int(FROM - PREVIOUS);
        if (random.next() < 0.7) push({ type: 'IMPRESSION', at: at(), campaign });
        if (random.next() < 0.6) push({ type: 'ENROLL', at: at(), course, campaign });
        if (random.next() < 0.45) {
          push({ type: 'PURCHASE', at: at(), course, campaign, amountMinor: 4900 });
          if (random.next() < 0.3) push({ type: 'PURCHASE', at: at(), course, campaign, amountMinor: 1900 });
        }
        if (random.next() < 0.5) push({ type: 'RATING', at: at(), course, campaign, rating: 1 + random.int(5) });
      }
    }
    await record(lead, generated.filter((g) => g.brand === 'lead'));
    await record(partner, generated.filter((g) => g.brand === 'partner'));
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
  });

  /** The funnel's definitions, over the generated events of a scope. */
  const direct = (inScope: (g: Generated) => boolean, from: number, to: number) => {
    const scoped = generated.filter(inScope);
    const key = (g: Generated) => `${g.brand}:${g.learner}`;
    const inPeriod = scoped.filter((g) => g.at >= from && g.at < to);
    const seenBefore = new Set(scoped.filter((g) => g.at < from).map(key));
    const people = new Map<string, { reached: boolean; enrolled: boolean; purchases: number }>();
    for (const g of inPeriod) {
      const p = people.get(key(g)) ?? { reached: false, enrolled: false, purchases: 0 };
      if (g.type === 'IMPRESSION') p.reached = true;
      if (g.type === 'ENROLL') p.enrolled = true;
      if (g.type === 'PURCHASE') p.purchases++;
      people.set(key(g), p);
    }
    const acquired = [...people].filter(([k]) => !seenBefore.has(k)).map(([, p]) => p);
    const ratings = inPeriod.filter((g) => g.type === 'RATING');
    return {
      counts: [
        [...people.values()].filter((p) => p.reached).length,
        acquired.length,
        acquired.filter((p) => p.enrolled || p.purchases > 0).length,
        acquired.filter((p) => p.purchases > 0).length,
        acquired.filter((p) => p.purchases > 1).length,
      ],
      ratings: ratings.length,
      satisfaction: ratings.length ? (ratings.reduce((s, g) => s + g.rating!, 0) / ratings.length - 1) / 4 : null,
    };
  };

  const check = (funnel: any, inScope: (g: Generated) => boolean) => {
    const now = direct(inScope, FROM, TO);
    const before = direct(inScope, PREVIOUS, FROM);
    expect(funnel.current.stages.map((s: any) => s.count)).toEqual(now.counts);
    expect(funnel.previous.stages.map((s: any) => s.count)).toEqual(before.counts);
    expect(funnel.current.stages.map((s: any) => s.countDelta)).toEqual(now.counts.map((c, i) => c - before.counts[i]));
    expect(funnel.current.stages.map((s: any) => s.rate)).toEqual([null, ...now.counts.slice(1).map((c, i) => (now.counts[i] ? c / now.counts[i] : null))].map((r) => (r === null ? null : expect.closeTo(r, 12))));
    expect(funnel.current.ratings).toBe(now.ratings);
    expect(funnel.current.satisfaction).toBeCloseTo(now.satisfaction!, 12);
    expect(funnel.previous.from).toBe(new Date(PREVIOUS).toISOString());
    // Every stage holds somebody, so the check above compares real numbers.
    expect(Math.min(...now.counts, ...before.counts)).toBeGreaterThan(0);
    return now;
  };

  const period = { f: new Date(FROM).toISOString(), t: new Date(TO).toISOString() };

  it("counts the brand's funnel as the definitions do over the generated events, with the fortnight before", async () => {
    const funnel = (await app.ok(lead.token, FUNNEL, period)).funnel;
    check(funnel, (g) => g.brand === 'lead');
    expect(funnel.marketSize).toBeNull();
    expect(funnel.current.awareness).toBeNull();
    expect(funnel.current.index).toBeNull();
    expect(funnel.current.unknown).toEqual([expect.stringMatching(/No target market size is set for your brand/)]);
  });

  it('measures awareness and the composite index against the market size the brand sets', async () => {
    expect(codes(await app.gql(app.token(lead.id, [Role.EDITOR]), MARKET, { s: 2000 }))).toEqual(['FORBIDDEN']);
    expect(codes(await app.gql(lead.token, MARKET, { s: 0 }))).toEqual(['BAD_USER_INPUT']);
    expect((await app.ok(lead.token, MARKET, { s: 2000 })).setTargetMarketSize).toEqual({ campaignId: null, size: 2000 });
    const funnel = (await app.ok(lead.token, FUNNEL, period)).funnel;
    const [reach, acquired, , converted] = funnel.current.stages.map((s: any) => s.count);
    expect(funnel.marketSize).toBe(2000);
    expect(funnel.current.awareness).toBeCloseTo(reach / 2000, 12);
    expect(funnel.current.index).toBeCloseTo((acquired / 2000) * (converted / acquired) * funnel.current.satisfaction * (reach / 2000), 12);
    expect(funnel.indexDelta).toBeCloseTo(funnel.current.index - funnel.previous.index, 12);
    expect(funnel.current.unknown).toEqual([]);
    // Another brand's market is its own.
    expect((await app.ok(partner.token, FUNNEL, period)).funnel.marketSize).toBeNull();
  });

  it("counts a campaign's funnel: its own events and the purchases attributed to it", async () => {
    expect((await app.ok(app.token(lead.id, [Role.EDITOR]), MARKET, { s: 500, c: ownCampaign })).setTargetMarketSize.size).toBe(500);
    const funnel = (await app.ok(lead.token, FUNNEL, { ...period, c: ownCampaign })).funnel;
    check(funnel, (g) => g.campaign === ownCampaign);
    expect(funnel.marketSize).toBe(500);
    expect(codes(await app.gql(partner.token, FUNNEL, { ...period, c: ownCampaign }))).toEqual(['NOT_FOUND']);
    expect(codes(await app.gql(partner.token, MARKET, { s: 5, c: ownCampaign }))).toEqual(['NOT_FOUND']);
    expect(codes(await app.gql(lead.token, FUNNEL, { ...period, c: outsiderCampaign }))).toEqual(['NOT_FOUND']);
  });

  it("counts the alliance's funnel over joint courses and campaigns only, for every ACTIVE member alike", async () => {
    const isJoint = (g: Generated) => g.course === joint || g.campaign === jointCampaign;
    const asPartner = (await app.ok(partner.token, FUNNEL, { ...period, a: allianceId })).funnel;
    check(asPartner, isJoint);
    expect((await app.ok(lead.token, FUNNEL, { ...period, a: allianceId })).funnel).toEqual(asPartner);
    expect(asPartner.current.unknown).toContainEqual(expect.stringMatching(/overlap/));
    const campaignFunnel = (await app.ok(partner.token, FUNNEL, { ...period, a: allianceId, c: jointCampaign })).funnel;
    check(campaignFunnel, (g) => g.campaign === jointCampaign);
    expect(codes(await app.gql(outsider.token, FUNNEL, { ...period, a: allianceId }))).toEqual(['NOT_FOUND']);
    expect(codes(await app.gql(partner.token, FUNNEL, { ...period, a: allianceId, c: ownCampaign }))).toEqual(['NOT_FOUND']);
    expect(codes(await app.gql(lead.token, FUNNEL, { f: period.t, t: period.f }))).toEqual(['BAD_USER_INPUT']);
  });

  describe('the satisfaction model', () => {
    const WEEK = 7 * 86_400_000;
    const JUNE = Date.parse('2026-06-01T00:00:00Z'); // a Monday
    const planted = [0.5, 0.3, 0.1];
    /** Per week and series (lead's own, partner's own, joint): the ratings given. */
    const given: number[][][] = [];

    beforeAll(async () => {
      const random = new Random(29);
      const rating = (x: number) => 1 + [0, 1, 2, 3].filter(() => random.next() < x).length;
      const events: Record<'lead' | 'partner', Generated[]> = { lead: [], partner: [] };
      for (let w = 0; w < 12; w++) {
        const xa = 0.3 + 0.6 * random.next();
        const xb = 0.2 + 0.6 * random.next();
        const xab = planted[0] * xa + planted[1] * xb + planted[2];
        // The last week has too few ratings to be used.
        const n = w === 11 ? MIN_RATINGS - 1 : 30;
        const week: number[][] = [[], [], []];
        for (let i = 0; i < n; i++) {
          const at = JUNE + w * WEEK + random.int(WEEK);
          const add = (series: number, brand: 'lead' | 'partner', course: string, x: number) => {
            const r = rating(x);
            week[series].push(r);
            events[brand].push({ brand, type: 'RATING', learner: `${brand}-rater-${i}`, at, course, rating: r });
          };
          add(0, 'lead', leadOwn, xa);
          add(1, 'partner', partnerOwn, xb);
          add(2, i % 2 === 0 ? 'lead' : 'partner', joint, xab);
        }
        given.push(week);
      }
      await record(lead, events.lead);
      await record(partner, events.partner);
    }, 60_000);

    const reading = (rs: number[]) => (rs.length ? (rs.reduce((s, r) => s + r, 0) / rs.length - 1) / 4 : null);

    it("reads each member's own satisfaction and the joint offer's per week, and fits the weights on them", async () => {
      const impact = (await app.ok(partner.token, IMPACT, { a: allianceId, f: new Date(JUNE).toISOString(), t: new Date(JUNE + 12 * WEEK).toISOString(), b: 'WEEK' })).allianceImpact;
      const members = [lead.id, partner.id].sort();
      expect(impact.memberIds).toEqual(members);
      const order = members.map((id) => (id === lead.id ? 0 : 1));
      expect(impact.points).toHaveLength(12);
      impact.points.forEach((p: any, w: number) => {
        expect(p.bucketStart).toBe(new Date(JUNE + w * WEEK).toISOString());
        expect(p.joint).toEqual({ satisfaction: expect.closeTo(reading(given[w][2])!, 12), ratings: given[w][2].length });
        expect(p.members).toEqual(order.map((s, i) => ({ brandId: members[i], satisfaction: expect.closeTo(reading(given[w][s])!, 12), ratings: given[w][s].length })));
        const n = given[w][0].length + given[w][1].length;
        const mean = (reading(given[w][0])! * given[w][0].length + reading(given[w][1])! * given[w][1].length) / n;
        expect(p.uplift).toBeCloseTo(reading(given[w][2])! - mean, 12);
        expect(p.usable).toBe(w < 11);
      });
      // The fit: the estimator's on the weeks read directly, with each reading's sampling variance.
      const variance = (rs: number[]) => {
        const us = rs.map((r) => (r - 1) / 4);
        const m = us.reduce((s, u) => s + u, 0) / us.length;
        return us.reduce((s, u) => s + (u - m) ** 2, 0) / (us.length - 1) / us.length;
      };
      const expected = fitSatisfaction(
        given.slice(0, 11).map((week) => ({ xs: order.map((s) => reading(week[s])!), xVariances: order.map((s) => variance(week[s])), y: reading(week[2])! })),
        2,
      );
      if (!expected.fitted) throw new Error(expected.reason);
      expect(impact.fit.points).toBe(11);
      expect(impact.fit.residualDegreesOfFreedom).toBe(8);
      expect(impact.fit.coefficients.map((c: any) => c.name)).toEqual(['alpha', 'beta', 'gamma']);
      expect(impact.fit.coefficients.map((c: any) => c.brandId)).toEqual([...members, null]);
      impact.fit.coefficients.forEach((c: any, i: number) => {
        expect(c.estimate).toBeCloseTo(expected.coefficients[i].estimate, 9);
        expect(c.standardError).toBeCloseTo(expected.coefficients[i].standardError, 9);
        expect(c.low).toBeLessThan(c.estimate);
        expect(c.high).toBeGreaterThan(c.estimate);
      });
      expect(impact.fit.rSquared).toBeCloseTo(expected.rSquared!, 9);
      expect(impact.fit.reason).toBeNull();
    });

    it('refuses to fit from too few weeks, and says what too few is', async () => {
      const impact = (await app.ok(lead.token, IMPACT, { a: allianceId, f: new Date(JUNE).toISOString(), t: new Date(JUNE + 3 * WEEK).toISOString(), b: 'WEEK' })).allianceImpact;
      expect(impact.fit.coefficients).toBeNull();
      expect(impact.fit.reason).toMatch(/^3 usable buckets; a fit of 3 coefficients needs at least 8/);
      expect(codes(await app.gql(outsider.token, IMPACT, { a: allianceId, f: new Date(JUNE).toISOString(), t: new Date(JUNE + WEEK).toISOString() }))).toEqual(['NOT_FOUND']);
      expect(codes(await app.gql(lead.token, IMPACT, { a: allianceId, f: '2020-01-01T00:00:00Z', t: '2026-01-01T00:00:00Z', b: 'HOUR' }))).toEqual(['BAD_USER_INPUT']);
    });
  });
});
