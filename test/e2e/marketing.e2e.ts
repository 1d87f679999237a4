import type { ModelCall } from '../../src/ml/recommend/serving';
import { assignArm } from '../../src/services/experiment-stats';
import { activeAlliance } from '../support/alliances';
import { codes, TestApp, type TestBrand } from '../support/server';

/**
 * Precision marketing end to end: CTR predictions (the prior, then a
 * trained factorisation machine), the creative to show, learner segments,
 * and what one brand can never see of another's.
 */

const TRAIN = `mutation($k: ModelKind!) { trainModel(kind: $k) { id kind status } }`;
const MODELS = `query($k: ModelKind) { models(kind: $k) { id kind status active metrics failure } }`;
const PREDICT = `query($c: ID!, $l: [ID!]!, $at: DateTime) { predictCtr(creativeId: $c, learnerIds: $l, at: $at) { learnerId probability source } }`;
const BEST = `query($c: ID!, $l: ID!, $at: DateTime) { bestCreative(campaignId: $c, learnerId: $l, at: $at) {
  creative { id headline } probability reason explanation localTime experimentId model { id kind } } }`;
const SEGMENTATION = `{ segmentation { k at model { id kind active metrics } segments { label size centroid } } }`;
const CAMPAIGN = `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`;
const CREATIVE = `mutation($c: ID!, $input: CreativeInput!) { addCreative(campaignId: $c, input: $input) { id } }`;
const STATUS = `mutation($id: ID!, $s: CampaignStatus!) { setCampaignStatus(id: $id, status: $s) { id status } }`;
const EXPERIMENT = `mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { id status arms { arm creative { id } modelVersion { id } } } }`;
const END = `mutation($id: ID!) { endExperiment(id: $id) { id status } }`;
const RECORD = `mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted rejected { index message } } }`;

const LEARNERS = 60;
const DAYS = 20;
/** 21:30 in Shanghai on each day: inside the campaign's 20..23 window. */
const EVENING_UTC_HOUR = 13;

describe('precision marketing', () => {
  let app: TestApp;
  let a: TestBrand;
  let b: TestBrand;
  let campaign: string;
  let python: string;
  let literature: string;
  const learnerIds: string[] = [];
  const calls: ModelCall[] = [];
  /** Impressions and clicks per creative, as planted. */
  const planted = new Map<string, { impressions: number; clicks: number }>();

  const taste = (l: number) => (l % 2 === 0 ? 'python' : 'literature');

  beforeAll(async () => {
    app = await TestApp.start({ ALLIED_CTR_EXPLORATION_PERCENT: '0', ALLIED_CTR_CLICK_WINDOW_MINUTES: '30' });
    a = await app.brand('Marketing Alpha');
    b = await app.brand('Marketing Beta');
    const courses: Record<string, string[]> = { python: [], literature: [] };
    for (const topic of ['python', 'literature']) {
      for (let i = 0; i < 3; i++) courses[topic].push(await app.course(a, { title: `${topic} ${i}`, topics: [topic] }));
    }
    campaign = (
      await app.ok(a.token, CAMPAIGN, {
        input: {
          name: 'Evening courses',
          kind: 'AD_PLACEMENT',
          startsAt: '2026-01-01T00:00:00Z',
          windowStartHour: 20,
          windowEndHour: 23,
          timeZone: 'Asia/Shanghai',
          budget: { amountMinor: 100000, currency: 'CNY' },
          courseIds: [...courses.python, ...courses.literature],
        },
      })
    ).createCampaign.id;
    python = (await app.ok(a.token, CREATIVE, { c: campaign, input: { channel: 'SOCIAL', headline: 'Learn Python tonight 今晚学Python' } })).addCreative.id;
    literature = (await app.ok(a.token, CREATIVE, { c: campaign, input: { channel: 'SOCIAL', headline: 'Classic literature, read aloud 经典文学导读' } })).addCreative.id;
    await app.ok(a.token, STATUS, { id: campaign, s: 'ACTIVE' });
    planted.set(python, { impressions: 0, clicks: 0 });
    planted.set(literature, { impressions: 0, clicks: 0 });

    // Each learner views courses of their taste (what segments see), and sees both creatives every evening;
    // they click the creative of their taste on 3 evenings in 5 and the other on 1 in 10.
    const events: Record<string, unknown>[] = [];
    const start = Date.parse('2026-10-01T00:00:00Z');
    for (let l = 0; l < LEARNERS; l++) {
      const learner = `m-${l}`;
      const own = courses[taste(l)];
      for (let v = 0; v < 4 + (l % 3); v++) {
        events.push({ idempotencyKey: `v-${l}-${v}`, type: 'VIEW', learnerExternalId: learner, courseId: own[v % 3], occurredAt: new Date(start + v * 3_600_000).toISOString() });
      }
      for (let d = 0; d < DAYS; d++) {
        const evening = start + d * 86_400_000 + EVENING_UTC_HOUR * 3_600_000 + l * 1000;
        for (const creative of [python, literature]) {
          const mine = (creative === python) === (taste(l) === 'python');
          const clicked = mine ? (d + l) % 5 < 3 : (d + l) % 10 === 0;
          const at = evening + (creative === python ? 0 : 120_000);
          events.push({ idempotencyKey: `i-${l}-${d}-${creative}`, type: 'IMPRESSION', learnerExternalId: learner, campaignId: campaign, creativeId: creative, occurredAt: new Date(at).toISOString() });
          planted.get(creative)!.impressions++;
          if (clicked) {
            events.push({ idempotencyKey: `c-${l}-${d}-${creative}`, type: 'CLICK', learnerExternalId: learner, campaignId: campaign, creativeId: creative, occurredAt: new Date(at + 60_000).toISOString() });
            planted.get(creative)!.clicks++;
          }
        }
      }
    }
    for (let i = 0; i < events.length; i += 1000) {
      const result = (await app.ok(a.token, RECORD, { e: events.slice(i, i + 1000) })).recordEvents;
      expect(result.rejected).toEqual([]);
    }
    const data = await app.ok(a.token, `{ learners(first: 100) { edges { node { id externalId } } } }`);
    const byExternal = new Map<string, string>(data.learners.edges.map((e: any) => [e.node.externalId, e.node.id]));
    for (let l = 0; l < LEARNERS; l++) learnerIds.push(byExternal.get(`m-${l}`)!);
    app.server.app.models.observe((call) => calls.push(call));
  });
  afterAll(async () => {
    await app?.stop();
  });

  async function trainAndWait(brand: TestBrand, kind: string): Promise<any> {
    const started = (await app.ok(brand.token, TRAIN, { k: kind })).trainModel;
    const deadline = Date.now() + 90_000;
    for (;;) {
      const version = (await app.ok(brand.token, MODELS, { k: kind })).models.find((m: any) => m.id === started.id);
      if (version.status !== 'TRAINING') return version;
      if (Date.now() > deadline) throw new Error(`${kind} training ${started.id} did not finish`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const evening = '2026-12-01T13:30:00Z';

  it('without a model, predicts the smoothed observed rate, the same for every learner', async () => {
    const total = [...planted.values()].reduce((s, c) => ({ impressions: s.impressions + c.impressions, clicks: s.clicks + c.clicks }), { impressions: 0, clicks: 0 });
    const campaignRate = (total.clicks + 0.02 * 100) / (total.impressions + 100);
    const x = planted.get(python)!;
    const expected = (x.clicks + campaignRate * 50) / (x.impressions + 50);
    const predictions = (await app.ok(a.token, PREDICT, { c: python, l: learnerIds.slice(0, 3) })).predictCtr;
    expect(predictions.map((p: any) => p.learnerId)).toEqual(learnerIds.slice(0, 3));
    for (const p of predictions) {
      expect(p.source).toBe('PRIOR');
      expect(p.probability).toBeCloseTo(expected, 10);
    }
    const best = (await app.ok(a.token, BEST, { c: campaign, l: learnerIds[0], at: evening })).bestCreative;
    expect(best.reason).toBe('OBSERVED_CTR');
    expect(best.model).toBeNull();
  });

  it('bestCreative respects the status, the start, and the daily window in the campaign time zone', async () => {
    const at = async (when: string) => (await app.ok(a.token, BEST, { c: campaign, l: learnerIds[0], at: when })).bestCreative;
    const morning = await at('2026-12-01T03:00:00Z'); // 11:00 in Shanghai
    expect(morning).toMatchObject({ creative: null, reason: 'OUTSIDE_DELIVERY_WINDOW', localTime: '2026-12-01T11:00:00.000+08:00' });
    expect(morning.explanation).toContain('Asia/Shanghai');
    // 23:59 is inside 20..23, midnight is not.
    expect((await at('2026-12-01T15:59:00Z')).creative).not.toBeNull();
    expect((await at('2026-12-01T16:00:00Z')).reason).toBe('OUTSIDE_DELIVERY_WINDOW');
    expect((await at('2025-12-31T13:30:00Z')).reason).toBe('NOT_STARTED');
    await app.ok(a.token, STATUS, { id: campaign, s: 'PAUSED' });
    try {
      expect(await at(evening)).toMatchObject({ creative: null, reason: 'CAMPAIGN_NOT_ACTIVE' });
    } finally {
      await app.ok(a.token, STATUS, { id: campaign, s: 'ACTIVE' });
    }
  });

  it('rejects what it cannot score: too many learners, learners of another brand, creatives it cannot see', async () => {
    const tooMany = Array.from({ length: 1001 }, () => learnerIds[0]);
    expect(codes(await app.gql(a.token, PREDICT, { c: python, l: tooMany }))).toEqual(['BAD_USER_INPUT']);
    const other = await app.gql(b.token, PREDICT, { c: python, l: [learnerIds[0]] });
    expect(codes(other)).toEqual(['NOT_FOUND']);
    await app.ok(b.token, RECORD, { e: [{ idempotencyKey: 'b-1', type: 'VIEW', learnerExternalId: 'b-learner', occurredAt: evening }] });
    const bLearner = (await app.ok(b.token, `{ learners { edges { node { id } } } }`)).learners.edges[0].node.id;
    const mixed = await app.gql(a.token, PREDICT, { c: python, l: [learnerIds[0], bLearner] });
    expect(codes(mixed)).toEqual(['BAD_USER_INPUT']);
    expect(mixed.errors![0].message).toContain(bLearner);
    expect(codes(await app.gql(b.token, BEST, { c: campaign, l: bLearner }))).toEqual(['NOT_FOUND']);
    expect(codes(await app.gql(a.token, BEST, { c: campaign, l: bLearner }))).toEqual(['NOT_FOUND']);
  });

  it('segments learners by what they do, labels every learner, and filters learners by segment', async () => {
    const version = await trainAndWait(a, 'SEGMENTATION');
    expect(version).toMatchObject({ status: 'READY', active: true });
    expect(version.metrics.k).toBeGreaterThanOrEqual(2);
    expect(version.metrics.scores.map((s: any) => s.k)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    const seg = (await app.ok(a.token, SEGMENTATION)).segmentation;
    expect(seg.model.id).toBe(version.id);
    expect(seg.k).toBe(version.metrics.k);
    expect(seg.segments.reduce((n: number, s: any) => n + s.size, 0)).toBe(LEARNERS);
    expect(new Set(seg.segments.map((s: any) => s.label)).size).toBe(seg.k);
    expect(Object.keys(seg.segments[0].centroid)).toEqual(expect.arrayContaining(['activity', 'recency', 'topic:python', 'topic:literature']));

    const page = (await app.ok(a.token, `{ learners(first: 100) { edges { node { id externalId segment } } } }`)).learners.edges.map((e: any) => e.node);
    const segmentOf = new Map<string, string>(page.map((n: any) => [n.externalId, n.segment]));
    for (let l = 0; l < LEARNERS; l++) expect(segmentOf.get(`m-${l}`)).toBeTruthy();
    // No segment mixes the two tastes.
    for (const s of seg.segments) {
      const members = [...segmentOf.entries()].filter(([, label]) => label === s.label).map(([ext]) => taste(Number(ext.slice(2))));
      expect(new Set(members).size).toBe(1);
      const filtered = (await app.ok(a.token, `query($s: String) { learners(first: 100, segment: $s) { totalCount } }`, { s: s.label })).learners;
      expect(filtered.totalCount).toBe(s.size);
    }
    expect((await app.ok(b.token, SEGMENTATION)).segmentation).toBeNull();
  });

  it('trains a CTR model that beats its baseline on held-out impressions and ranks learners by taste', async () => {
    const version = await trainAndWait(a, 'CTR');
    expect(version).toMatchObject({ status: 'READY', active: true, failure: null });
    const m = version.metrics;
    expect(m.examples).toBe(planted.get(python)!.impressions + planted.get(literature)!.impressions);
    expect(m.positives).toBe(planted.get(python)!.clicks + planted.get(literature)!.clicks);
    expect(m.calibration).toHaveLength(10);
    expect(m.auc).toBeGreaterThan(0.75);
    // Taste is a segment × creative interaction: the FM's factors learn it, the linear baseline cannot.
    expect(m.auc).toBeGreaterThan(m.lrAuc + 0.1);
    expect(m.clickWindowMinutes).toBe(30);

    calls.length = 0;
    const predictions = (await app.ok(a.token, PREDICT, { c: python, l: learnerIds, at: evening })).predictCtr;
    expect(calls.filter((c) => c.kind === 'CTR')).toEqual([expect.objectContaining({ batch: LEARNERS })]);
    expect(predictions.every((p: any) => p.source === 'MODEL')).toBe(true);
    const mean = (t: string) => {
      const ps = predictions.filter((_p: any, l: number) => taste(l) === t).map((p: any) => p.probability);
      return ps.reduce((x: number, y: number) => x + y, 0) / ps.length;
    };
    expect(mean('python')).toBeGreaterThan(mean('literature') + 0.2);

    const forPython = (await app.ok(a.token, BEST, { c: campaign, l: learnerIds[0], at: evening })).bestCreative;
    expect(forPython).toMatchObject({ reason: 'PREDICTED_CTR', creative: { id: python }, model: { id: version.id } });
    const forLiterature = (await app.ok(a.token, BEST, { c: campaign, l: learnerIds[1], at: evening })).bestCreative;
    expect(forLiterature).toMatchObject({ reason: 'PREDICTED_CTR', creative: { id: literature } });
    expect(forLiterature.probability).toBeGreaterThan(0.3);

    const creatives = (await app.ok(a.token, `query($id: ID!) { campaign(id: $id) { creatives { id predictedCtr } } }`, { id: campaign })).campaign.creatives;
    for (const c of creatives) {
      expect(c.predictedCtr).toBeGreaterThan(0.05);
      expect(c.predictedCtr).toBeLessThan(0.95);
    }
  });

  it('serves each learner the creative its experiment arm names, and the CTR version its model experiment arm names', async () => {
    const creative = (await app.ok(a.token, EXPERIMENT, { i: { name: 'Headlines', campaignId: campaign, creativeIds: [python, literature] } })).createExperiment;
    try {
      for (const learner of learnerIds.slice(0, 12)) {
        const best = (await app.ok(a.token, BEST, { c: campaign, l: learner, at: evening })).bestCreative;
        const arm = assignArm(creative.id, learner, [1, 1]);
        expect(best).toMatchObject({ reason: 'EXPERIMENT', experimentId: creative.id, creative: { id: creative.arms[arm].creative.id } });
      }
      // Outside the window, the experiment changes nothing: nothing is shown.
      expect((await app.ok(a.token, BEST, { c: campaign, l: learnerIds[0], at: '2026-12-01T03:00:00Z' })).bestCreative.reason).toBe('OUTSIDE_DELIVERY_WINDOW');
    } finally {
      await app.ok(a.token, END, { id: creative.id });
    }

    // A second CTR version, and an experiment between the two: each learner is scored by its arm's version.
    const second = await trainAndWait(a, 'CTR');
    expect(second.status).toBe('READY');
    const versions = (await app.ok(a.token, MODELS, { k: 'CTR' })).models.filter((m: any) => m.status === 'READY').map((m: any) => m.id).slice(0, 2);
    const model = (await app.ok(a.token, EXPERIMENT, { i: { name: 'CTR versions', modelKind: 'CTR', modelVersionIds: versions } })).createExperiment;
    try {
      const seen = new Set<string>();
      for (const learner of learnerIds.slice(0, 12)) {
        const best = (await app.ok(a.token, BEST, { c: campaign, l: learner, at: evening })).bestCreative;
        const arm = assignArm(model.id, learner, [1, 1]);
        expect(best).toMatchObject({ reason: 'PREDICTED_CTR', experimentId: model.id, model: { id: model.arms[arm].modelVersion.id } });
        seen.add(best.model.id);
      }
      expect(seen.size).toBe(2);
    } finally {
      await app.ok(a.token, END, { id: model.id });
    }
    // Ended: the active version serves again.
    const after = (await app.ok(a.token, BEST, { c: campaign, l: learnerIds[0], at: evening })).bestCreative;
    expect(after.experimentId).toBeNull();
  });

  it('another brand trains only on its own impressions, and sees joint campaign counts only as aggregates', async () => {
    // Brand B has no impressions: its CTR training fails and says why.
    const failed = await trainAndWait(b, 'CTR');
    expect(failed.status).toBe('FAILED');
    expect(failed.failure).toContain('No impressions');

    const c = await app.brand('Marketing Gamma');
    const { allianceId } = await activeAlliance(app, a, [c], [[a, 5000], [c, 5000]]);
    const joint = (
      await app.ok(a.token, CAMPAIGN, {
        input: { name: 'Joint', kind: 'JOINT_MARKETING', allianceId, startsAt: '2026-01-01T00:00:00Z', budget: { amountMinor: 1000, currency: 'CNY' } },
      })
    ).createCampaign.id;
    const creative = (await app.ok(a.token, CREATIVE, { c: joint, input: { channel: 'PARTNER_SITE', headline: 'Together' } })).addCreative.id;
    const impressions = (brand: string, n: number, clicks: number) =>
      Array.from({ length: n }, (_x, i) => [
        { idempotencyKey: `${brand}-i-${i}`, type: 'IMPRESSION', learnerExternalId: `${brand}-${i % 5}`, campaignId: joint, creativeId: creative, occurredAt: new Date(Date.parse(evening) + i * 1000).toISOString() },
        ...(i < clicks ? [{ idempotencyKey: `${brand}-c-${i}`, type: 'CLICK', learnerExternalId: `${brand}-${i % 5}`, campaignId: joint, creativeId: creative, occurredAt: new Date(Date.parse(evening) + i * 1000 + 500).toISOString() }] : []),
      ]).flat();
    await app.ok(a.token, RECORD, { e: impressions('a', 40, 20) });
    await app.ok(c.token, RECORD, { e: impressions('g', 60, 0) });
    // Both members' prior uses all 100 impressions and 20 clicks of the creative (counts only).
    const campaignRate = (20 + 2) / (100 + 100);
    const expected = (20 + campaignRate * 50) / (100 + 50);
    const gLearner = (await app.ok(c.token, `{ learners { edges { node { id } } } }`)).learners.edges[0].node.id;
    const forC = (await app.ok(c.token, PREDICT, { c: creative, l: [gLearner] })).predictCtr[0];
    expect(forC).toMatchObject({ source: 'PRIOR' });
    expect(forC.probability).toBeCloseTo(expected, 10);
    // C's learner is not A's: A cannot score it, and C's training reads only C's 60 impressions, none clicked.
    expect(codes(await app.gql(a.token, PREDICT, { c: creative, l: [gLearner] }))).toEqual(['BAD_USER_INPUT']);
    const cTraining = await trainAndWait(c, 'CTR');
    expect(cTraining.status).toBe('FAILED');
    expect(cTraining.failure).toContain('None of the 60 impressions');
  });
});
