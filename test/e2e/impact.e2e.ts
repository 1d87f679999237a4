import { Random } from '../../src/ml/train/random';
import { fitSatisfaction, MIN_RATINGS } from '../../src/services/impact-model';
import { Role } from '../../src/tenancy/roles';
import { activeAlliance } from '../support/alliances';
import { parseCsv } from '../support/csv';
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
const BUDGET = `query($c: [ID!]!, $t: MoneyInput!, $o: BudgetObjective, $w: Int) { suggestBudget(campaignIds: $c, total: $t, objective: $o, weeks: $w) {
  method weeks expected warnings assumptions total { amountMinor currency }
  shares { campaignId amount { amountMinor currency } share expected expectedLow expectedHigh costPerClick { amountMinor } ctr predictedCtr conversionRate responseScale responseExponent weeksOfHistory } } }`;
const SPEND = `mutation($c: ID!, $a: MoneyInput!, $at: DateTime!) { recordCampaignSpend(campaignId: $c, amount: $a, occurredAt: $at) { id } }`;
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

  it('counts a learner as acquired until an earlier event of it arrives, however late', async () => {
    const acquired = async () => (await app.ok(lead.token, FUNNEL, period)).funnel.current.stages[1].count as number;
    const before = await acquired();
    const late: Generated[] = [{ brand: 'lead', type: 'VIEW', learner: 'late-0', at: FROM + 3_600_000 }];
    await record(lead, late);
    generated.push(...late);
    expect(await acquired()).toBe(before + 1);
    // The learner's first event, sent after its later one: it was seen before the period after all.
    const earlier: Generated[] = [{ brand: 'lead', type: 'VIEW', learner: 'late-0', at: EARLIER }];
    await record(lead, earlier);
    generated.push(...earlier);
    expect(await acquired()).toBe(before);
    check((await app.ok(lead.token, FUNNEL, period)).funnel, (g) => g.brand === 'lead');
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

  it('exports each funnel as CSV: a row per stage of the period before and the period, with the same figures', async () => {
    const scopes = [{ token: lead.token, query: '' }, { token: partner.token, query: `&allianceId=${allianceId}` }, { token: partner.token, query: `&allianceId=${allianceId}&campaignId=${jointCampaign}` }];
    for (const { token, query } of scopes) {
      const res = await app.http.get(`/exports/funnel.csv?from=${period.f}&to=${period.t}${query}`).set('authorization', `Bearer ${token}`);
      expect(res.status).toBe(200);
      const [header, ...rows] = parseCsv(res.text);
      const at = (name: string, row: string[]) => row[header.indexOf(name)];
      const params = new URLSearchParams(query);
      const funnel = (await app.ok(token, FUNNEL, { ...period, a: params.get('allianceId'), c: params.get('campaignId') })).funnel;
      const expected = (['previous', 'current'] as const).flatMap((name) =>
        funnel[name].stages.map((s: any) => [
          name.toUpperCase(), funnel[name].from, funnel[name].to, s.stage, s.count, s.rate, s.countDelta, s.rateDelta,
          funnel[name].ratings, funnel[name].satisfaction, funnel.marketSize, funnel[name].awareness, funnel[name].index, funnel[name].unknown.join(' '),
        ].map((v) => (v === null ? '' : String(v)))),
      );
      expect(rows).toEqual(expected);
      expect(rows).toHaveLength(10);
      expect(at('stage', rows[5])).toBe('REACH');
    }
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

    it('exports the uplift as CSV: a row per week and series, with the figures allianceImpact gives', async () => {
      const [f, t] = [new Date(JUNE).toISOString(), new Date(JUNE + 12 * WEEK).toISOString()];
      const res = await app.http.get(`/exports/impact.csv?allianceId=${allianceId}&from=${f}&to=${t}&bucket=WEEK`).set('authorization', `Bearer ${partner.token}`);
      expect(res.status).toBe(200);
      const [header, ...rows] = parseCsv(res.text);
      expect(header).toEqual(['bucket_start', 'series', 'brand_id', 'satisfaction', 'ratings', 'uplift', 'usable']);
      const impact = (await app.ok(partner.token, IMPACT, { a: allianceId, f, t, b: 'WEEK' })).allianceImpact;
      const expected = impact.points.flatMap((p: any) =>
        [...p.members.map((m: any) => [p.bucketStart, 'MEMBER', m.brandId, m.satisfaction, m.ratings, p.uplift, p.usable]), [p.bucketStart, 'JOINT', null, p.joint.satisfaction, p.joint.ratings, p.uplift, p.usable]].map(
          (row) => row.map((v: unknown) => (v === null ? '' : String(v))),
        ),
      );
      expect(rows).toEqual(expected);
      // Twelve weeks, each with the two members' own satisfaction and the joint offer's.
      expect(rows).toHaveLength(36);
      const refusal = async (query: string, token: string) => {
        const r = await app.http.get(`/exports/impact.csv?${query}`).set('authorization', `Bearer ${token}`);
        return [r.status, r.body.errors[0].extensions.code];
      };
      expect(await refusal(`allianceId=${allianceId}&from=${f}&to=${t}`, outsider.token)).toEqual([404, 'NOT_FOUND']);
      expect(await refusal(`from=${f}&to=${t}`, partner.token)).toEqual([400, 'BAD_USER_INPUT']);
      expect(await refusal(`allianceId=${allianceId}&from=${f}&to=${t}&bucket=MINUTE`, partner.token)).toEqual([400, 'BAD_USER_INPUT']);
    });

    it('refuses to fit from too few weeks, and says what too few is', async () => {
      const impact = (await app.ok(lead.token, IMPACT, { a: allianceId, f: new Date(JUNE).toISOString(), t: new Date(JUNE + 3 * WEEK).toISOString(), b: 'WEEK' })).allianceImpact;
      expect(impact.fit.coefficients).toBeNull();
      expect(impact.fit.reason).toMatch(/^3 usable buckets; a fit of 3 coefficients needs at least 8/);
      expect(codes(await app.gql(outsider.token, IMPACT, { a: allianceId, f: new Date(JUNE).toISOString(), t: new Date(JUNE + WEEK).toISOString() }))).toEqual(['NOT_FOUND']);
      expect(codes(await app.gql(lead.token, IMPACT, { a: allianceId, f: '2020-01-01T00:00:00Z', t: '2026-01-01T00:00:00Z', b: 'HOUR' }))).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('budget suggestions', () => {
    const WEEK = 7 * 86_400_000;
    const JULY = Date.parse('2026-07-06T00:00:00Z'); // a Monday
    const planted = [{ a: 0.06, k: 0.55 }, { a: 0.5, k: 0.35 }, { a: 0.02, k: 0.7 }];
    const campaignIds: string[] = [];
    let young: string;

    /** A Poisson draw (the means here are tens). */
    const poisson = (random: Random, mean: number) => {
      let k = 0;
      let p = random.next();
      const limit = Math.exp(-mean);
      while (p > limit) {
        k++;
        p *= random.next();
      }
      return k;
    };

    beforeAll(async () => {
      const random = new Random(41);
      const events: Generated[] = [];
      const create = async (name: string) =>
        (await app.ok(lead.token, CAMPAIGN, { i: { name, kind: 'AD_PLACEMENT', startsAt: '2026-07-01T00:00:00Z', budget: { amountMinor: 1_000_000, currency: 'USD' } } })).createCampaign.id as string;
      for (const [c, curve] of planted.entries()) {
        const id = await create(`Budget ${c}`);
        campaignIds.push(id);
        for (let w = 0; w < 8; w++) {
          const spend = 1000 + random.int(19_000);
          const at = JULY + w * WEEK + 86_400_000;
          await app.ok(lead.token, SPEND, { c: id, a: { amountMinor: spend, currency: 'USD' }, at: new Date(at).toISOString() });
          const n = poisson(random, curve.a * spend ** curve.k);
          for (let i = 0; i < n; i++) {
            events.push({ brand: 'lead', type: 'PURCHASE', learner: `budget-${c}-${w}-${i}`, at: at + random.int(5 * 86_400_000), course: leadOwn, campaign: id, amountMinor: 2000 });
          }
        }
      }
      young = await create('Budget young');
      await app.ok(lead.token, SPEND, { c: young, a: { amountMinor: 5000, currency: 'USD' }, at: new Date(JULY + 86_400_000).toISOString() });
      for (let i = 0; i < 10; i++) events.push({ brand: 'lead', type: 'PURCHASE', learner: `budget-young-${i}`, at: JULY + 2 * 86_400_000, course: leadOwn, campaign: young, amountMinor: 2000 });
      await record(lead, events);
    }, 60_000);

    const planted4Weeks = (amounts: number[]) => planted.reduce((s, c, i) => s + 4 * c.a * (amounts[i] / 4) ** c.k, 0);

    it('splits a budget along fitted response curves to within 10% of the planted optimum', async () => {
      const total = 60_000;
      const suggestion = (await app.ok(app.token(lead.id, [Role.ANALYST]), BUDGET, { c: campaignIds, t: { amountMinor: total, currency: 'USD' } })).suggestBudget;
      expect(suggestion.method).toBe('RESPONSE_CURVES');
      expect(suggestion.weeks).toBe(4);
      expect(suggestion.warnings).toEqual([]);
      const amounts = suggestion.shares.map((s: any) => s.amount.amountMinor);
      expect(amounts.reduce((a: number, b: number) => a + b, 0)).toBe(total);
      expect(suggestion.shares.map((s: any) => s.weeksOfHistory)).toEqual([8, 8, 8]);
      // The optimum on the planted curves, by trying every split in steps of 250.
      let best = 0;
      for (let s0 = 0; s0 <= total; s0 += 250) {
        for (let s1 = 0; s0 + s1 <= total; s1 += 250) best = Math.max(best, planted4Weeks([s0, s1, total - s0 - s1]));
      }
      expect(planted4Weeks(amounts) / best).toBeGreaterThan(0.9);
      expect(planted4Weeks([total / 3, total / 3, total / 3]) / best).toBeLessThan(planted4Weeks(amounts) / best);
      for (const s of suggestion.shares) {
        expect(s.expectedLow).toBeLessThan(s.expected);
        expect(s.expectedHigh).toBeGreaterThan(s.expected);
        expect(s.responseExponent).toBeGreaterThan(0);
        expect(s.responseExponent).toBeLessThan(1);
      }
      expect(suggestion.expected).toBeCloseTo(suggestion.shares.reduce((a: number, s: any) => a + s.expected, 0), 9);
    });

    it('falls back to shares proportional to the return on spend, with a warning, when a history is too short', async () => {
      const suggestion = (await app.ok(lead.token, BUDGET, { c: [campaignIds[0], young], t: { amountMinor: 10_000, currency: 'USD' }, o: 'REVENUE', w: 2 })).suggestBudget;
      expect(suggestion.method).toBe('PROPORTIONAL_TO_RETURN');
      expect(suggestion.warnings).toEqual([expect.stringMatching(/^Budget young: 1 week with spend; a response curve needs at least 4/), expect.stringMatching(/History too short/)]);
      const [first, second] = suggestion.shares;
      // Revenue per unit spent, as recorded: the young campaign's 10 purchases of 20.00 on 50.00 of spend.
      const [{ revenue, spend }] = await app.sql(
        `select (select sum(amount_minor) from events where campaign_id = $1 and type = 'PURCHASE')::float8 as revenue,
                (select sum(amount_minor) from campaign_spend where campaign_id = $1)::float8 as spend`,
        [campaignIds[0]],
      );
      const rates = [revenue / spend, 20_000 / 5000];
      expect(first.amount.amountMinor + second.amount.amountMinor).toBe(10_000);
      expect(second.amount.amountMinor / 10_000).toBeCloseTo(rates[1] / (rates[0] + rates[1]), 3);
      expect(second.expected).toBeCloseTo(rates[1] * second.amount.amountMinor, 6);
      expect(second.responseExponent).toBeNull();
    });

    it('exports a suggestion as CSV: a row per campaign with the same split, outcomes, method and warnings', async () => {
      const ids = [campaignIds[0], campaignIds[1], young];
      const res = await app.http
        .get(`/exports/budget.csv?campaignIds=${ids.slice(0, 2).join(',')}&campaignIds=${young}&total=USD:10000&objective=REVENUE&weeks=2`)
        .set('authorization', `Bearer ${lead.token}`);
      expect(res.status).toBe(200);
      const [header, ...rows] = parseCsv(res.text);
      const api = (await app.ok(lead.token, BUDGET, { c: ids, t: { amountMinor: 10_000, currency: 'USD' }, o: 'REVENUE', w: 2 })).suggestBudget;
      expect(api.warnings.length).toBeGreaterThan(0);
      expect(header).toEqual([
        'campaign_id', 'amount_minor', 'currency', 'share', 'expected', 'expected_low', 'expected_high', 'ctr', 'predicted_ctr',
        'cost_per_click_minor', 'conversion_rate', 'response_scale', 'response_exponent', 'weeks_of_history', 'objective', 'weeks', 'method', 'warnings',
      ]);
      expect(rows).toEqual(
        api.shares.map((s: any) =>
          [
            s.campaignId, s.amount.amountMinor, s.amount.currency, s.share, s.expected, s.expectedLow, s.expectedHigh, s.ctr, s.predictedCtr,
            s.costPerClick?.amountMinor ?? null, s.conversionRate, s.responseScale, s.responseExponent, s.weeksOfHistory,
            'REVENUE', 2, api.method, api.warnings.join(' | '),
          ].map((v) => (v === null ? '' : String(v))),
        ),
      );
      const refusal = async (query: string, token = lead.token) => {
        const r = await app.http.get(`/exports/budget.csv?${query}`).set('authorization', `Bearer ${token}`);
        return [r.status, r.body.errors[0].extensions.code];
      };
      expect(await refusal(`campaignIds=${ids[0]}&total=10000`)).toEqual([400, 'BAD_USER_INPUT']);
      expect(await refusal(`campaignIds=${ids[0]}&total=XYZ:100`)).toEqual([400, 'BAD_USER_INPUT']);
      expect(await refusal(`total=USD:100`)).toEqual([400, 'BAD_USER_INPUT']);
      expect(await refusal(`campaignIds=${ids[0]}&total=USD:100&weeks=99`)).toEqual([400, 'BAD_USER_INPUT']);
      expect(await refusal(`campaignIds=${ids[0]}&total=USD:100`, partner.token)).toEqual([404, 'NOT_FOUND']);
    });

    it("refuses campaigns that are not the brand's own, and bad totals", async () => {
      expect(codes(await app.gql(partner.token, BUDGET, { c: campaignIds, t: { amountMinor: 100, currency: 'USD' } }))).toEqual(['NOT_FOUND']);
      expect(codes(await app.gql(lead.token, BUDGET, { c: [outsiderCampaign], t: { amountMinor: 100, currency: 'USD' } }))).toEqual(['NOT_FOUND']);
      expect(codes(await app.gql(lead.token, BUDGET, { c: campaignIds, t: { amountMinor: 0, currency: 'USD' } }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await app.gql(lead.token, BUDGET, { c: [], t: { amountMinor: 100, currency: 'USD' } }))).toEqual(['BAD_USER_INPUT']);
      const euros = (await app.ok(lead.token, BUDGET, { c: campaignIds.slice(0, 1), t: { amountMinor: 100, currency: 'EUR' } })).suggestBudget;
      expect(euros.warnings[0]).toMatch(/spent in USD, not EUR/);
    });
  });
});
