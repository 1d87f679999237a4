import { ModelKind } from '../../src/entities/enums';
import { assignArm, compareProportions, COMPARISON_METHOD } from '../../src/services/experiment-stats';
import { Principal } from '../../src/tenancy/principal';
import { Role } from '../../src/tenancy/roles';
import { activeAlliance } from '../support/alliances';
import { codes, TestApp, type TestBrand } from '../support/server';

/**
 * A/B experiments end to end: sticky arms recorded on the events they
 * affect, per-arm figures against counts computed here from the events sent,
 * the comparison against compareProportions, a joint campaign's members'
 * traffic, isolation, roles, validation, and promotion of a winning model.
 */

const RECORD = `mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted rejected { index code message } } }`;
const CAMPAIGN = `mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { id } }`;
const CREATIVE = `mutation($c: ID!, $h: String!) { addCreative(campaignId: $c, input: { channel: SOCIAL, headline: $h }) { id } }`;
const COMPARISON = `rateControl rateTreatment absoluteLift relativeLift ciLow ciHigh pValue significant`;
const FIELDS = `id name kind status modelKind primaryMetric method confidence startedAt endedAt
  campaign { id } alliance { id } owner { id }
  arms { arm control weight share exposures clicks conversions revenue { amountMinor currency } clickRate conversionRate
    clickLift { ${COMPARISON} } conversionLift { ${COMPARISON} } modelVersion { id active } creative { id } }
  outcome { promoteRequested metric winningArm promoted reason }`;
const CREATE = `mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { ${FIELDS} } }`;
const END = `mutation($id: ID!, $p: Boolean) { endExperiment(id: $id, promote: $p) { ${FIELDS} } }`;
const READ = `query($id: ID!) { experiment(id: $id) { ${FIELDS} } }`;
const LIST = `query($s: ExperimentStatus) { experiments(status: $s, first: 50) { totalCount edges { node { id status } } } }`;
const MODELS = `{ models(kind: RECOMMENDER) { id status active } }`;

const at = (base: string, ms: number) => new Date(Date.parse(base) + ms).toISOString();

interface Planted {
  learner: string;
  arm: number;
  clicked: boolean;
  purchased: boolean;
  revenue: Record<string, number>;
}

/** Per arm, the figures a report must show for the planted learners (all of them exposed). */
function expected(planted: Planted[], arms: number) {
  return Array.from({ length: arms }, (_, arm) => {
    const mine = planted.filter((p) => p.arm === arm);
    const revenue: Record<string, number> = {};
    for (const p of mine) for (const [c, v] of Object.entries(p.revenue)) revenue[c] = (revenue[c] ?? 0) + v;
    return {
      arm,
      exposures: mine.length,
      clicks: mine.filter((p) => p.clicked).length,
      conversions: mine.filter((p) => p.purchased).length,
      revenue: Object.keys(revenue).sort().map((currency) => ({ amountMinor: revenue[currency], currency })),
    };
  });
}

/** The report's comparison must be compareProportions of the counts. */
function expectComparison(got: any, control: { exposures: number; x: number }, treatment: { exposures: number; x: number }) {
  const r = compareProportions({ exposures: control.exposures, conversions: control.x }, { exposures: treatment.exposures, conversions: treatment.x });
  expect(got.rateControl).toBeCloseTo(r.rateControl, 12);
  expect(got.rateTreatment).toBeCloseTo(r.rateTreatment, 12);
  expect(got.absoluteLift).toBeCloseTo(r.absoluteLift, 12);
  if (r.relativeLift === null) expect(got.relativeLift).toBeNull();
  else expect(got.relativeLift).toBeCloseTo(r.relativeLift, 12);
  expect(got.ciLow).toBeCloseTo(r.ci[0], 12);
  expect(got.ciHigh).toBeCloseTo(r.ci[1], 12);
  expect(got.pValue).toBeCloseTo(r.pValue, 12);
  expect(got.significant).toBe(r.significant);
}

describe('experiments', () => {
  let app: TestApp;
  let a: TestBrand;
  let b: TestBrand;
  let m: TestBrand;
  let outsider: TestBrand;
  let allianceId: string;
  let aCourse: string;
  let bCourse: string;
  let mCourses: string[] = [];

  beforeAll(async () => {
    app = await TestApp.start();
    a = await app.brand('Experiment Academy');
    b = await app.brand('Experiment Club', 'SPORTS_ORGANIZATION');
    m = await app.brand('Experiment Models');
    outsider = await app.brand('Experiment Outsider', 'ADVERTISER');
    ({ allianceId } = await activeAlliance(app, a, [b], [[a, 5000], [b, 5000]]));
    aCourse = await app.course(a, { title: 'Experiment course' });
    bCourse = await app.course(b, { title: 'Club course' });
  });
  afterAll(() => app?.stop());

  const record = async (brand: TestBrand, events: Record<string, unknown>[]) => {
    const { recordEvents } = await app.ok(brand.token, RECORD, { e: events });
    expect(recordEvents.rejected).toEqual([]);
    expect(recordEvents.accepted).toBe(events.length);
  };

  /** The brand's learners' ids by external id, every page. */
  const learnerIds = async (brand: TestBrand): Promise<Map<string, string>> => {
    const ids = new Map<string, string>();
    let after: string | null = null;
    for (;;) {
      const data: any = await app.ok(brand.token, `query($a: String) { learners(first: 100, after: $a) { edges { node { id externalId } } pageInfo { hasNextPage endCursor } } }`, { a: after });
      for (const e of data.learners.edges) ids.set(e.node.externalId, e.node.id);
      if (!data.learners.pageInfo.hasNextPage) return ids;
      after = data.learners.pageInfo.endCursor;
    }
  };

  const campaignWithCreatives = async (brand: TestBrand, n: number, joint = false) => {
    const input: Record<string, unknown> = { name: 'Experiment campaign', kind: 'AD_PLACEMENT', startsAt: '2026-01-01T00:00:00Z', budget: { amountMinor: 100000, currency: 'USD' } };
    if (joint) input.allianceId = allianceId;
    const campaignId = (await app.ok(brand.token, CAMPAIGN, { i: input })).createCampaign.id as string;
    const creatives: string[] = [];
    for (let i = 0; i < n; i++) creatives.push((await app.ok(brand.token, CREATIVE, { c: campaignId, h: `Headline ${i}` })).addCreative.id);
    return { campaignId, creatives };
  };

  /** Every assignment row of an experiment, as the owner connection sees them. */
  const assignments = (experimentId: string) =>
    app.sql<{ tenant_id: string; key: string; learner_id: string; arm: number }>(
      `select s.tenant_id, e.idempotency_key as key, e.learner_id, s.arm from experiment_assignments s
       join events e on e.tenant_id = s.tenant_id and e.id = s.event_id where s.experiment_id = $1 order by e.idempotency_key`,
      [experimentId],
    );

  const armFor = (brand: TestBrand, target: { campaignId: string } | { modelKind: ModelKind }, learnerId: string) =>
    app.server.app.runAs(Principal.system(brand.id, 'test', [Role.ANALYST]), (ctx) => app.server.app.services.experiments.armFor(ctx, target, learnerId));

  describe('a creative experiment', () => {
    let campaignId: string;
    let creatives: string[];
    let experiment: any;
    const planted: Planted[] = [];
    const LEARNERS = 30;
    const lastClickBuyers = [3, 9, 21, 27];

    beforeAll(async () => {
      ({ campaignId, creatives } = await campaignWithCreatives(a, 2));
      experiment = (await app.ok(a.token, CREATE, { i: { name: 'Headline test', campaignId, creativeIds: creatives } })).createExperiment;
    });

    it('starts RUNNING with equal weights, arm 0 the control, and its method', async () => {
      expect(experiment).toMatchObject({
        name: 'Headline test', kind: 'CREATIVE', status: 'RUNNING', modelKind: null, primaryMetric: 'CLICK_RATE',
        method: COMPARISON_METHOD, confidence: 0.95, endedAt: null, campaign: { id: campaignId }, alliance: null, owner: { id: a.id }, outcome: null,
      });
      expect(experiment.method).toMatch(/two-proportion z-test \(pooled/);
      expect(experiment.method).toMatch(/Newcombe hybrid score interval/);
      expect(experiment.arms.map((x: any) => [x.arm, x.control, x.weight, x.share, x.creative.id, x.modelVersion, x.exposures, x.clickLift])).toEqual([
        [0, true, 1, 0.5, creatives[0], null, 0, null],
        [1, false, 1, 0.5, creatives[1], null, 0, expect.objectContaining({ pValue: 1, significant: false })],
      ]);
      const listed = await app.ok(a.token, LIST, { s: 'RUNNING' });
      expect(listed.experiments.edges.map((e: any) => e.node.id)).toContain(experiment.id);
    });

    it('records each affected event with the learner\'s sticky arm, in the same transaction', async () => {
      const start = experiment.startedAt;
      const events: Record<string, unknown>[] = [
        // Before the experiment started: not affected.
        { type: 'IMPRESSION', idempotencyKey: 'cx-early', learnerExternalId: 'c-0', campaignId, occurredAt: at(start, -60_000) },
      ];
      for (let i = 0; i < LEARNERS; i++) {
        events.push({ type: 'IMPRESSION', idempotencyKey: `cx-imp-${i}`, learnerExternalId: `c-${i}`, campaignId, occurredAt: at(start, 1 + i) });
      }
      await record(a, events);
      const ids = await learnerIds(a);
      for (let i = 0; i < LEARNERS; i++) {
        const learner = ids.get(`c-${i}`)!;
        planted.push({ learner, arm: assignArm(experiment.id, learner, [1, 1]), clicked: i % 3 === 0, purchased: false, revenue: {} });
      }
      // Both arms get learners.
      expect(new Set(planted.map((p) => p.arm))).toEqual(new Set([0, 1]));

      const later: Record<string, unknown>[] = [];
      for (let i = 0; i < LEARNERS; i++) {
        const p = planted[i];
        const learnerExternalId = `c-${i}`;
        // A second impression, naming the creative of the learner's arm, as serving would show it.
        later.push({ type: 'IMPRESSION', idempotencyKey: `cx-imp2-${i}`, learnerExternalId, creativeId: creatives[p.arm], occurredAt: at(start, 40 + i) });
        if (p.clicked) later.push({ type: 'CLICK', idempotencyKey: `cx-click-${i}`, learnerExternalId, campaignId, occurredAt: at(start, 100 + i) });
        if (i % 5 === 0) {
          const amount = i % 10 === 5 ? { amountMinor: 700, currency: 'CNY' } : { amountMinor: 1000, currency: 'USD' };
          later.push({ type: 'PURCHASE', idempotencyKey: `cx-buy-${i}`, learnerExternalId, campaignId, courseId: aCourse, amount, occurredAt: at(start, 200 + i) });
          p.purchased = true;
          p.revenue[amount.currency] = amount.amountMinor;
        }
        if (lastClickBuyers.includes(i)) {
          // Names no campaign: the learner's last click attributes it.
          later.push({ type: 'PURCHASE', idempotencyKey: `cx-lastclick-${i}`, learnerExternalId, courseId: aCourse, amount: { amountMinor: 1500, currency: 'USD' }, occurredAt: at(start, 300 + i) });
          p.purchased = true;
          p.revenue.USD = (p.revenue.USD ?? 0) + 1500;
        }
      }
      // A purchase no click attributes, and a click by a learner never shown an impression: neither is an exposure.
      later.push({ type: 'PURCHASE', idempotencyKey: 'cx-unattributed', learnerExternalId: 'c-1', courseId: aCourse, amount: { amountMinor: 999, currency: 'USD' }, occurredAt: at(start, 400) });
      later.push({ type: 'CLICK', idempotencyKey: 'cx-click-unexposed', learnerExternalId: 'c-unexposed', campaignId, occurredAt: at(start, 400) });
      // An event of another kind never counts.
      later.push({ type: 'VIEW', idempotencyKey: 'cx-view', learnerExternalId: 'c-2', courseId: aCourse, occurredAt: at(start, 400) });
      await record(a, later);

      const rows = await assignments(experiment.id);
      const keyed = new Map(rows.map((r) => [r.key, r]));
      expect(keyed.has('cx-early')).toBe(false);
      expect(keyed.has('cx-unattributed')).toBe(false);
      expect(keyed.has('cx-view')).toBe(false);
      for (const k of ['cx-imp-0', 'cx-imp2-0', 'cx-click-0', 'cx-buy-0', 'cx-lastclick-3', 'cx-click-unexposed']) expect(keyed.has(k)).toBe(true);
      expect(rows.length).toBe(LEARNERS * 2 + planted.filter((p) => p.clicked).length + 6 + lastClickBuyers.length + 1);
      // Every row carries the learner's arm: the same for all of a learner's events, and the hash's.
      for (const r of rows) {
        expect(r.tenant_id).toBe(a.id);
        expect(r.arm).toBe(assignArm(experiment.id, r.learner_id, [1, 1]));
      }
      // Serving asks the same question and gets the same answer.
      for (const p of planted.slice(0, 6)) {
        expect(await armFor(a, { campaignId }, p.learner)).toEqual({ experimentId: experiment.id, arm: p.arm, creativeId: creatives[p.arm], modelVersionId: null });
      }
      expect(await armFor(a, { modelKind: ModelKind.CTR }, planted[0].learner)).toBeNull();
    });

    it('reports per arm, in learners, exactly what was planted, compared by compareProportions', async () => {
      const { experiment: report } = await app.ok(a.token, READ, { id: experiment.id });
      const want = expected(planted, 2);
      expect(report.arms.map((x: any) => ({ arm: x.arm, exposures: x.exposures, clicks: x.clicks, conversions: x.conversions, revenue: x.revenue }))).toEqual(want);
      for (const [i, x] of report.arms.entries()) {
        expect(x.clickRate).toBeCloseTo(want[i].clicks / want[i].exposures, 12);
        expect(x.conversionRate).toBeCloseTo(want[i].conversions / want[i].exposures, 12);
      }
      const [c, t] = want;
      expect(report.arms[0].clickLift).toBeNull();
      expectComparison(report.arms[1].clickLift, { exposures: c.exposures, x: c.clicks }, { exposures: t.exposures, x: t.clicks });
      expectComparison(report.arms[1].conversionLift, { exposures: c.exposures, x: c.conversions }, { exposures: t.exposures, x: t.conversions });
    });

    it('refuses a second RUNNING experiment on the campaign, and a creative of another campaign', async () => {
      const second = await app.gql(a.token, CREATE, { i: { name: 'Again', campaignId, creativeIds: creatives } });
      expect(codes(second)).toEqual(['CONFLICT']);
      expect(second.errors![0].message).toMatch(/already RUNNING/);
      const other = await campaignWithCreatives(a, 1);
      const foreign = await app.gql(a.token, CREATE, { i: { name: 'Mixed', campaignId: other.campaignId, creativeIds: [other.creatives[0], creatives[0]] } });
      expect(codes(foreign)).toEqual(['BAD_USER_INPUT']);
      expect(foreign.errors![0].message).toMatch(/belongs to another campaign/);
    });

    it('ends without promoting (creatives are chosen by serving) and records nothing afterwards', async () => {
      const before = (await assignments(experiment.id)).length;
      const { endExperiment } = await app.ok(a.token, END, { id: experiment.id, p: true });
      expect(endExperiment).toMatchObject({ status: 'ENDED', outcome: { promoteRequested: true, metric: 'CLICK_RATE', promoted: false } });
      expect(endExperiment.endedAt).not.toBeNull();
      expect(endExperiment.outcome.reason.length).toBeGreaterThan(10);
      await record(a, [{ type: 'IMPRESSION', idempotencyKey: 'cx-after', learnerExternalId: 'c-0', campaignId, occurredAt: new Date().toISOString() }]);
      expect((await assignments(experiment.id)).length).toBe(before);
      expect(await armFor(a, { campaignId }, planted[0].learner)).toBeNull();
      expect(codes(await app.gql(a.token, END, { id: experiment.id }))).toEqual(['CONFLICT']);
    });
  });

  describe("a joint campaign's experiment", () => {
    let campaignId: string;
    let creatives: string[];
    let experiment: any;

    beforeAll(async () => {
      ({ campaignId, creatives } = await campaignWithCreatives(a, 2, true));
      experiment = (await app.ok(a.token, CREATE, { i: { name: 'Joint headline test', campaignId, creativeIds: creatives, weights: [3, 1] } })).createExperiment;
    });

    it("counts the members' traffic as aggregates; members read it, only the owner ends it", async () => {
      expect(experiment).toMatchObject({ alliance: { id: allianceId }, owner: { id: a.id } });
      expect(experiment.arms.map((x: any) => [x.weight, x.share])).toEqual([[3, 0.75], [1, 0.25]]);
      const start = experiment.startedAt;
      const plant = async (brand: TestBrand, prefix: string, n: number, course: string) => {
        const events: Record<string, unknown>[] = [];
        for (let i = 0; i < n; i++) {
          events.push({ type: 'IMPRESSION', idempotencyKey: `${prefix}-imp-${i}`, learnerExternalId: `${prefix}-${i}`, campaignId, occurredAt: at(start, 1 + i) });
          if (i % 2 === 0) events.push({ type: 'CLICK', idempotencyKey: `${prefix}-click-${i}`, learnerExternalId: `${prefix}-${i}`, campaignId, occurredAt: at(start, 50 + i) });
          if (i % 4 === 0) {
            events.push({ type: 'PURCHASE', idempotencyKey: `${prefix}-buy-${i}`, learnerExternalId: `${prefix}-${i}`, campaignId, courseId: course, amount: { amountMinor: 2000, currency: 'EUR' }, occurredAt: at(start, 80 + i) });
          }
        }
        await record(brand, events);
        const ids = await learnerIds(brand);
        return Array.from({ length: n }, (_, i): Planted => {
          const learner = ids.get(`${prefix}-${i}`)!;
          return { learner, arm: assignArm(experiment.id, learner, [3, 1]), clicked: i % 2 === 0, purchased: i % 4 === 0, revenue: i % 4 === 0 ? { EUR: 2000 } : {} };
        });
      };
      const fromA = await plant(a, 'ja', 12, aCourse);
      const fromB = await plant(b, 'jb', 16, bCourse);

      // The member's rows are the member's: the owner's tenant cannot read them, the owner connection sees them under b.
      const rows = await assignments(experiment.id);
      expect(rows.filter((r) => r.tenant_id === b.id).length).toBe(16 + 8 + 4);
      for (const r of rows) expect(r.arm).toBe(assignArm(experiment.id, r.learner_id, [3, 1]));
      const seenByA = await app.asBrand(a.id, (manager) => manager.query(`select count(*)::int as n from experiment_assignments where tenant_id = $1`, [b.id]));
      expect(seenByA).toEqual([{ n: 0 }]);
      // Serving for the member's learner agrees with what was recorded.
      expect(await armFor(b, { campaignId }, fromB[0].learner)).toMatchObject({ experimentId: experiment.id, arm: fromB[0].arm });

      const want = expected([...fromA, ...fromB], 2);
      for (const brand of [a, b]) {
        const { experiment: report } = await app.ok(brand.token, READ, { id: experiment.id });
        expect(report.arms.map((x: any) => ({ arm: x.arm, exposures: x.exposures, clicks: x.clicks, conversions: x.conversions, revenue: x.revenue }))).toEqual(want);
        expectComparison(report.arms[1].clickLift, { exposures: want[0].exposures, x: want[0].clicks }, { exposures: want[1].exposures, x: want[1].clicks });
      }
      // A member lists it too, but only the owner changes it.
      expect((await app.ok(b.token, LIST, {})).experiments.edges.map((e: any) => e.node.id)).toContain(experiment.id);
      expect(codes(await app.gql(b.token, END, { id: experiment.id }))).toEqual(['FORBIDDEN']);
      // A member cannot start one on the owner's campaign.
      expect(codes(await app.gql(b.token, CREATE, { i: { name: 'Not mine', campaignId, creativeIds: creatives } }))).toEqual(['FORBIDDEN']);
    });

    it('is invisible to a brand outside the alliance, at the API and in SQL', async () => {
      expect((await app.ok(outsider.token, READ, { id: experiment.id })).experiment).toBeNull();
      expect((await app.ok(outsider.token, LIST, {})).experiments.totalCount).toBe(0);
      expect(codes(await app.gql(outsider.token, END, { id: experiment.id }))).toEqual(['NOT_FOUND']);
      expect(codes(await app.gql(outsider.token, CREATE, { i: { name: 'Theirs', campaignId, creativeIds: creatives } }))).toEqual(['NOT_FOUND']);
      const sql = await app.asBrand(outsider.id, async (manager) => ({
        experiments: await manager.query(`select id from experiments`),
        arms: await manager.query(`select arm from experiment_arms`),
        assignments: await manager.query(`select arm from experiment_assignments`),
        figures: await manager.query(`select * from allied_experiment_figures($1::uuid[])`, [[experiment.id]]),
      }));
      expect(sql).toEqual({ experiments: [], arms: [], assignments: [], figures: [] });
      // Its events naming the campaign are refused, so its traffic never enters the experiment.
      const { recordEvents } = await app.ok(outsider.token, RECORD, {
        e: [{ type: 'IMPRESSION', idempotencyKey: 'o-imp', learnerExternalId: 'o-1', campaignId, occurredAt: new Date().toISOString() }],
      });
      expect(recordEvents.rejected.map((r: any) => r.code)).toEqual(['UNKNOWN_CAMPAIGN']);
    });

    it('lets ANALYST read, and only OWNER or ADMIN create or end', async () => {
      const analyst = app.token(a.id, [Role.ANALYST]);
      const editor = app.token(a.id, [Role.EDITOR]);
      const ingest = app.token(a.id, [Role.INGEST]);
      const admin = app.token(a.id, [Role.ADMIN]);
      expect((await app.ok(analyst, READ, { id: experiment.id })).experiment.id).toBe(experiment.id);
      expect(codes(await app.gql(ingest, READ, { id: experiment.id }))).toEqual(['FORBIDDEN']);
      const other = await campaignWithCreatives(a, 2);
      for (const token of [analyst, editor, ingest]) {
        expect(codes(await app.gql(token, CREATE, { i: { name: 'Nope', campaignId: other.campaignId, creativeIds: other.creatives } }))).toEqual(['FORBIDDEN']);
        expect(codes(await app.gql(token, END, { id: experiment.id }))).toEqual(['FORBIDDEN']);
      }
      const byAdmin = (await app.ok(admin, CREATE, { i: { name: 'By admin', campaignId: other.campaignId, creativeIds: other.creatives } })).createExperiment;
      expect(byAdmin.status).toBe('RUNNING');
      expect((await app.ok(admin, END, { id: byAdmin.id })).endExperiment.status).toBe('ENDED');
    });
  });

  describe('a model experiment', () => {
    let control: string;
    let treatment: string;
    let experiment: any;
    const TRAIN_LEARNERS = 24;

    const trainAndWait = async (): Promise<string> => {
      const id = (await app.ok(m.token, `mutation { trainModel(kind: RECOMMENDER) { id } }`)).trainModel.id as string;
      const deadline = Date.now() + 60_000;
      for (;;) {
        const version = (await app.ok(m.token, MODELS)).models.find((v: any) => v.id === id);
        if (version.status === 'READY') return id;
        if (version.status === 'FAILED' || Date.now() > deadline) throw new Error(`training ${id}: ${JSON.stringify(version)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    beforeAll(async () => {
      for (let i = 0; i < 12; i++) mCourses.push(await app.course(m, { title: `Model course ${i}`, topics: [i < 6 ? 'python' : 'poetry'] }));
      const events: Record<string, unknown>[] = [];
      const base = Date.parse('2026-09-01T00:00:00Z');
      for (let l = 0; l < TRAIN_LEARNERS; l++) {
        for (let k = 0; k < 4; k++) {
          const c = (l % 2) * 6 + ((l + k * 5) % 6);
          const t = (d: number) => new Date(base + (k * 10 + d) * 86_400_000 + l * 60_000).toISOString();
          events.push({ type: 'VIEW', idempotencyKey: `t-v-${l}-${k}`, learnerExternalId: `t-${l}`, courseId: mCourses[c], occurredAt: t(0) });
          events.push({ type: 'ENROLL', idempotencyKey: `t-e-${l}-${k}`, learnerExternalId: `t-${l}`, courseId: mCourses[c], occurredAt: t(1) });
        }
      }
      await record(m, events);
      await trainAndWait();
      await trainAndWait();
      const versions = (await app.ok(m.token, MODELS)).models;
      control = versions.find((v: any) => v.active).id;
      treatment = versions.find((v: any) => !v.active).id;
    });

    it('refuses bad arms with clear codes, storing nothing', async () => {
      await app.sql(
        `insert into model_versions (tenant_id, id, kind, status, device, failure, trained_by) values ($1, gen_random_uuid(), 'RECOMMENDER', 'FAILED', 'cpu', 'test', 'test')`,
        [m.id],
      );
      const failed = (await app.ok(m.token, MODELS)).models.find((v: any) => v.status === 'FAILED').id;
      const other = await campaignWithCreatives(m, 2);
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [{ modelKind: 'RECOMMENDER', modelVersionIds: [control] }, 'BAD_USER_INPUT', /at least 2 arms/],
        [{ modelKind: 'RECOMMENDER', modelVersionIds: [control, control] }, 'BAD_USER_INPUT', /repeats/],
        [{ modelKind: 'CTR', modelVersionIds: [control, treatment] }, 'BAD_USER_INPUT', /is a RECOMMENDER model; this experiment compares CTR models/],
        [{ modelKind: 'NER', modelVersionIds: [control, treatment] }, 'BAD_USER_INPUT', /RECOMMENDER or CTR/],
        [{ modelKind: 'RECOMMENDER', modelVersionIds: [control, failed] }, 'BAD_USER_INPUT', /is FAILED; only READY versions/],
        [{ modelKind: 'RECOMMENDER', modelVersionIds: [control, '00000000-0000-4000-8000-000000000000'] }, 'NOT_FOUND', /Model version/],
        [{ modelKind: 'RECOMMENDER', modelVersionIds: [control, treatment], weights: [1] }, 'BAD_USER_INPUT', /one per arm/],
        [{ modelKind: 'RECOMMENDER', modelVersionIds: [control, treatment], weights: [1, 0] }, 'BAD_USER_INPUT', /weight must be positive/],
        [{ modelKind: 'RECOMMENDER', modelVersionIds: [control, treatment], campaignId: other.campaignId }, 'BAD_USER_INPUT', /not both/],
        [{ modelKind: 'RECOMMENDER', creativeIds: other.creatives }, 'BAD_USER_INPUT', /no creativeIds/],
        [{ campaignId: other.campaignId, creativeIds: [other.creatives[0]] }, 'BAD_USER_INPUT', /at least 2 arms/],
        [{ campaignId: other.campaignId, creativeIds: [other.creatives[0], '00000000-0000-4000-8000-000000000000'] }, 'NOT_FOUND', /Creative/],
        [{ campaignId: '00000000-0000-4000-8000-000000000000', creativeIds: other.creatives }, 'NOT_FOUND', /Campaign/],
        [{}, 'BAD_USER_INPUT', /modelKind with modelVersionIds/],
      ];
      for (const [input, code, message] of cases) {
        const result = await app.gql(m.token, CREATE, { i: { name: 'Bad', ...input } });
        expect([input, codes(result)]).toEqual([input, [code]]);
        expect(result.errors![0].message).toMatch(message);
      }
      // Another brand's versions are not found, like missing ones.
      expect(codes(await app.gql(outsider.token, CREATE, { i: { name: 'Theirs', modelKind: 'RECOMMENDER', modelVersionIds: [control, treatment] } }))).toEqual(['NOT_FOUND']);
      expect(await app.sql(`select count(*)::int as n from experiments where tenant_id = $1`, [m.id])).toEqual([{ n: 0 }]);
    });

    it('assigns the brand\'s learners while it runs, reports conversions, and promotes a significant winner', async () => {
      experiment = (await app.ok(m.token, CREATE, { i: { name: 'Recommender v2', modelKind: 'RECOMMENDER', modelVersionIds: [control, treatment] } })).createExperiment;
      expect(experiment).toMatchObject({ kind: 'MODEL', modelKind: 'RECOMMENDER', primaryMetric: 'CONVERSION_RATE', campaign: null, alliance: null });
      expect(experiment.arms.map((x: any) => x.modelVersion)).toEqual([{ id: control, active: true }, { id: treatment, active: false }]);
      expect(codes(await app.gql(m.token, CREATE, { i: { name: 'Twice', modelKind: 'RECOMMENDER', modelVersionIds: [treatment, control] } }))).toEqual(['CONFLICT']);

      const start = experiment.startedAt;
      const N = 160;
      const exposures: Record<string, unknown>[] = [];
      for (let i = 0; i < N; i++) exposures.push({ type: 'IMPRESSION', idempotencyKey: `p-imp-${i}`, learnerExternalId: `p-${i}`, occurredAt: at(start, 1 + (i % 50)) });
      await record(m, exposures);
      const ids = await learnerIds(m);
      const planted: Planted[] = [];
      const outcomes: Record<string, unknown>[] = [];
      for (let i = 0; i < N; i++) {
        const learner = ids.get(`p-${i}`)!;
        const arm = assignArm(experiment.id, learner, [1, 1]);
        // The treatment sells to 6 learners in 10, the control to 1 in 10; a third of each arm enrols or clicks as well.
        const purchased = i % 10 < (arm === 1 ? 6 : 1);
        const clicked = i % 3 === 0;
        if (clicked) outcomes.push({ type: 'CLICK', idempotencyKey: `p-click-${i}`, learnerExternalId: `p-${i}`, occurredAt: at(start, 60 + (i % 50)) });
        if (i % 3 === 1) outcomes.push({ type: 'ENROLL', idempotencyKey: `p-enrol-${i}`, learnerExternalId: `p-${i}`, courseId: mCourses[i % 12], occurredAt: at(start, 60 + (i % 50)) });
        if (purchased) {
          outcomes.push({ type: 'PURCHASE', idempotencyKey: `p-buy-${i}`, learnerExternalId: `p-${i}`, courseId: mCourses[i % 12], amount: { amountMinor: 4900, currency: 'USD' }, occurredAt: at(start, 120 + (i % 50)) });
        }
        planted.push({ learner, arm, clicked, purchased, revenue: purchased ? { USD: 4900 } : {} });
      }
      await record(m, outcomes);
      // Serving and recording agree.
      for (const p of planted.slice(0, 5)) {
        expect(await armFor(m, { modelKind: ModelKind.RECOMMENDER }, p.learner)).toEqual({
          experimentId: experiment.id, arm: p.arm, creativeId: null, modelVersionId: p.arm === 0 ? control : treatment,
        });
      }
      // The training learners' events came before the start: not part of it.
      const rows = await assignments(experiment.id);
      expect(rows.some((r) => r.key.startsWith('t-'))).toBe(false);
      expect(rows.length).toBe(N + outcomes.length);

      const want = expected(planted, 2);
      const { experiment: running } = await app.ok(m.token, READ, { id: experiment.id });
      expect(running.arms.map((x: any) => ({ arm: x.arm, exposures: x.exposures, clicks: x.clicks, conversions: x.conversions, revenue: x.revenue }))).toEqual(want);
      expectComparison(running.arms[1].conversionLift, { exposures: want[0].exposures, x: want[0].conversions }, { exposures: want[1].exposures, x: want[1].conversions });
      expect(running.arms[1].conversionLift.significant).toBe(true);
      expect(running.arms[1].conversionLift.ciLow).toBeGreaterThan(0);

      // Every planted event lies in the past before the experiment ends.
      while (Date.now() <= Date.parse(start) + 200) await new Promise((r) => setTimeout(r, 20));
      const { endExperiment } = await app.ok(m.token, END, { id: experiment.id, p: true });
      expect(endExperiment).toMatchObject({ status: 'ENDED', outcome: { promoteRequested: true, metric: 'CONVERSION_RATE', winningArm: 1, promoted: true } });
      expect(endExperiment.outcome.reason).toMatch(new RegExp(`Arm 1's conversion rate beat the control's.*${treatment} is now active`));
      // The report after the end is the same.
      expect(endExperiment.arms.map((x: any) => x.conversions)).toEqual(want.map((w) => w.conversions));
      const versions = (await app.ok(m.token, MODELS)).models;
      expect(versions.find((v: any) => v.id === treatment).active).toBe(true);
      expect(versions.find((v: any) => v.id === control).active).toBe(false);
      expect(await armFor(m, { modelKind: ModelKind.RECOMMENDER }, planted[0].learner)).toBeNull();
      expect((await app.ok(m.token, LIST, { s: 'ENDED' })).experiments.edges.map((e: any) => e.node.id)).toEqual([experiment.id]);
    });

    it('promotes nothing without a significant winner, and says why', async () => {
      const next = (await app.ok(m.token, CREATE, { i: { name: 'No data', modelKind: 'RECOMMENDER', modelVersionIds: [treatment, control] } })).createExperiment;
      const { endExperiment } = await app.ok(m.token, END, { id: next.id, p: true });
      expect(endExperiment.outcome).toMatchObject({ promoteRequested: true, winningArm: null, promoted: false });
      expect(endExperiment.outcome.reason).toMatch(/No treatment arm's conversion rate beat the control's significantly/);
      const versions = (await app.ok(m.token, MODELS)).models;
      expect(versions.find((v: any) => v.id === treatment).active).toBe(true);
    });
  });
});
