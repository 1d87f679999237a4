import { Role } from '../../src/tenancy/roles';
import { activeAlliance } from '../support/alliances';
import { waitFor } from '../support/jobs';
import { codes, TestApp, type TestBrand } from '../support/server';

/**
 * Demand extraction end to end: extractDemands with the shipped model,
 * FEEDBACK events extracted by the durable queue into Learner.demands and
 * demandTrends, corrections, alliance trends as counts only, and partner
 * suggestions ranked by the demands a partner's catalog meets.
 */

const EXTRACT = `query($t: String!) { extractDemands(text: $t) { model entities { type text start end confidence value { level format timeSlot budget { currency minMinor maxMinor } } } } }`;
const RECORD = `mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted rejected { index message } } }`;
const LEARNER = `query($x: String!) { learner(externalId: $x) { id demands } }`;
const TRENDS = `query($a: ID, $d: Int) { demandTrends(first: 20, allianceId: $a, days: $d) { demand type learners previousLearners change coveredByCatalog } }`;
const CORRECT = `mutation($f: ID!, $e: [DemandEntityInput!]!) { correctDemands(feedbackId: $f, entities: $e) { model entities { type text start end } } }`;
const SUGGEST = `{ partnerSuggestions(first: 10) { brand { id } complementarity rank unmetDemands reason } }`;

const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();

describe('demand extraction', () => {
  let app: TestApp;
  let a: TestBrand;
  let b: TestBrand;
  let c: TestBrand;

  beforeAll(async () => {
    app = await TestApp.start({ ALLIED_NER_TRAINING_SENTENCES: '600' });
    a = await app.brand('Demand Alpha');
    b = await app.brand('Demand Beta');
    c = await app.brand('Demand Gamma');
  });
  afterAll(async () => {
    await app?.stop();
  });

  const feedback = (brand: TestBrand, events: { key: string; learner: string; text: string; at?: string }[]) =>
    app.ok(brand.token, RECORD, {
      e: events.map((e) => ({ type: 'FEEDBACK', idempotencyKey: e.key, learnerExternalId: e.learner, text: e.text, occurredAt: e.at ?? ago(1) })),
    });
  /** A course, then PUBLISHED (courses are created as drafts). */
  const published = async (brand: TestBrand, input: Record<string, unknown>) => {
    const id = await app.course(brand, input);
    await app.ok(brand.token, `mutation($id: ID!) { updateCourse(id: $id, input: { status: PUBLISHED }) { id } }`, { id });
    return id;
  };
  const demandsOf = async (brand: TestBrand, learner: string) => (await app.ok(brand.token, LEARNER, { x: learner })).learner?.demands as string[] | undefined;
  const untilDemands = (brand: TestBrand, learner: string) => waitFor(`demands of ${learner}`, async () => ((await demandsOf(brand, learner))?.length ? demandsOf(brand, learner) : null));

  describe('extractDemands', () => {
    it('reads a Chinese request: offsets into the text, the shipped model, and budgets, formats and times normalised', async () => {
      const text = '想找周末晚上能听的经典文学导读，音频就行，200元以内';
      const { extractDemands } = await app.ok(a.token, EXTRACT, { t: text });
      expect(extractDemands.model).toMatch(/^allied-default-ner-[0-9a-f]{12}$/);
      for (const e of extractDemands.entities) {
        expect(text.slice(e.start, e.end)).toBe(e.text);
        expect(e.confidence).toBeGreaterThan(0);
        expect(e.confidence).toBeLessThanOrEqual(1);
      }
      const byType = (t: string) => extractDemands.entities.filter((e: any) => e.type === t);
      expect(byType('BUDGET')).toEqual([expect.objectContaining({ text: '200元以内', value: expect.objectContaining({ budget: { currency: 'CNY', minMinor: null, maxMinor: 20000 } }) })]);
      expect(byType('FORMAT').map((e: any) => e.value?.format)).toContain('AUDIO');
      expect(byType('TIME').map((e: any) => e.value?.timeSlot)).toContain('WEEKEND_EVENING');
      expect(byType('TOPIC').map((e: any) => e.text).join(' ')).toContain('经典文学');
    });

    it('reads an English request with its level, format and time', async () => {
      const text = 'need a beginner Python course, video, evenings';
      const { extractDemands } = await app.ok(a.token, EXTRACT, { t: text });
      const found = Object.fromEntries(extractDemands.entities.map((e: any) => [e.type, e]));
      expect(found.TOPIC.text).toBe('Python');
      expect(found.LEVEL.value.level).toBe('BEGINNER');
      expect(found.FORMAT.value.format).toBe('VIDEO');
      expect(found.TIME.value.timeSlot).toBe('EVENING');
      expect(text.slice(found.TOPIC.start, found.TOPIC.end)).toBe('Python');
    });

    it('counts offsets in UTF-16 code units past emoji', async () => {
      const text = '🏃‍♂️🏃‍♂️ 想学Python';
      const { extractDemands } = await app.ok(a.token, EXTRACT, { t: text });
      const topic = extractDemands.entities.find((e: any) => e.type === 'TOPIC');
      expect(topic).toMatchObject({ text: 'Python', start: text.indexOf('Python'), end: text.indexOf('Python') + 6 });
    });

    it('gives nothing for empty or blank text and refuses more than 4,000 characters', async () => {
      for (const t of ['', '   \n\t']) expect((await app.ok(a.token, EXTRACT, { t })).extractDemands.entities).toEqual([]);
      const long = await app.gql(a.token, EXTRACT, { t: '学'.repeat(4001) });
      expect(codes(long)).toEqual(['BAD_USER_INPUT']);
      expect(long.errors?.[0].message).toContain('4001');
      expect((await app.ok(a.token, EXTRACT, { t: '学'.repeat(4000) })).extractDemands.model).toBeTruthy();
    });

    it('is for analysts and above: an ingest key cannot read it', async () => {
      const ingest = app.token(a.id, [Role.INGEST]);
      expect(codes(await app.gql(ingest, EXTRACT, { t: 'python' }))).toEqual(['FORBIDDEN']);
    });
  });

  describe('feedback flows through', () => {
    it('extracts FEEDBACK after ingestion into Learner.demands, most recent first, in a job of the durable queue', async () => {
      await feedback(a, [
        { key: 'f1', learner: 'ann', text: '想学Python，有没有零基础的视频课', at: ago(3) },
        { key: 'f2', learner: 'ann', text: '还想学茶艺，周末上午', at: ago(2) },
        { key: 'f3', learner: 'bob', text: 'any tea ceremony classes? 茶艺 weekends', at: ago(2) },
      ]);
      expect(await untilDemands(a, 'ann')).toEqual(['tea ceremony', 'Python']);
      expect(await untilDemands(a, 'bob')).toContain('tea ceremony');
      const jobs: { kind: string; state: string }[] = await app.sql(`select kind, state from jobs where tenant_id = $1 and kind = 'demands.extract'`, [a.id]);
      expect(jobs.length).toBeGreaterThan(0);
      expect(jobs.every((j) => j.state === 'DONE')).toBe(true);
      const rows = await app.sql(`select type, value, text, start_offset, end_offset, source from learner_demands where tenant_id = $1`, [a.id]);
      for (const r of rows) expect(['TOPIC', 'LEVEL', 'FORMAT', 'TIME', 'BUDGET', 'PERSON', 'ORG', 'LOC']).toContain(r.type);
      expect(rows.find((r: any) => r.value === 'BEGINNER')).toMatchObject({ type: 'LEVEL', text: '零基础' });
    });

    it('ranks demands by learners over the window, with the window before and whether the catalog covers each', async () => {
      await feedback(a, [{ key: 'old-1', learner: 'cat', text: '想学Python', at: ago(40) }]);
      await untilDemands(a, 'cat');
      const before = (await app.ok(a.token, TRENDS, {})).demandTrends;
      const tea = before.find((t: any) => t.demand === 'tea ceremony');
      expect(tea).toMatchObject({ type: 'TOPIC', learners: 2, previousLearners: 0, change: 2, coveredByCatalog: false });
      expect(before.find((t: any) => t.demand === 'Python')).toMatchObject({ learners: 1, previousLearners: 1, change: 0, coveredByCatalog: false });
      expect(before[0].learners).toBeGreaterThanOrEqual(before[before.length - 1].learners);

      await published(a, { title: 'Python from zero', topics: ['python'] });
      const after = (await app.ok(a.token, TRENDS, {})).demandTrends;
      expect(after.find((t: any) => t.demand === 'Python').coveredByCatalog).toBe(true);
      expect(after.find((t: any) => t.demand === 'tea ceremony').coveredByCatalog).toBe(false);
      // A DRAFT course covers nothing.
      await app.course(a, { title: '茶艺入门', topics: ['茶艺'] });
      expect((await app.ok(a.token, TRENDS, {})).demandTrends.find((t: any) => t.demand === 'tea ceremony').coveredByCatalog).toBe(false);

      expect(codes(await app.gql(a.token, TRENDS, { d: 0 }))).toEqual(['BAD_USER_INPUT']);
      // Another brand sees none of it.
      expect((await app.ok(b.token, TRENDS, {})).demandTrends).toEqual([]);
    });

    it("stores an analyst's correction as a gold label that replaces what extraction found, under the brand's RLS", async () => {
      const text = '想学古琴，一百块左右';
      await feedback(a, [{ key: 'fix-1', learner: 'dan', text }]);
      await untilDemands(a, 'dan');
      const [event] = await app.sql(`select id from events where tenant_id = $1 and idempotency_key = 'fix-1'`, [a.id]);
      const analyst = app.token(a.id, [Role.ANALYST]);
      const corrected = await app.ok(analyst, CORRECT, {
        f: event.id,
        e: [
          { type: 'BUDGET', start: 5, end: 10 },
          { type: 'TOPIC', start: 2, end: 4 },
        ],
      });
      expect(corrected.correctDemands).toEqual({
        model: 'correction',
        entities: [
          { type: 'TOPIC', text: '古琴', start: 2, end: 4 },
          { type: 'BUDGET', text: '一百块左右', start: 5, end: 10 },
        ],
      });
      const stored = await app.sql(`select type, text, source from learner_demands where tenant_id = $1 and event_id = $2 order by start_offset`, [a.id, event.id]);
      expect(stored).toEqual([
        { type: 'TOPIC', text: '古琴', source: 'correction' },
        { type: 'BUDGET', text: '一百块左右', source: 'correction' },
      ]);
      const [gold] = await app.sql(`select entities, corrected_by from demand_corrections where tenant_id = $1 and event_id = $2`, [a.id, event.id]);
      expect(gold.entities).toEqual([{ type: 'TOPIC', start: 2, end: 4 }, { type: 'BUDGET', start: 5, end: 10 }]);

      for (const bad of [[{ type: 'TOPIC', start: 3, end: 30 }], [{ type: 'TOPIC', start: 2, end: 4 }, { type: 'TOPIC', start: 3, end: 5 }], [{ type: 'TOPIC', start: 4, end: 4 }]]) {
        expect(codes(await app.gql(analyst, CORRECT, { f: event.id, e: bad }))).toEqual(['BAD_USER_INPUT']);
      }
      // Another brand cannot correct it, and is told only that there is no such feedback.
      expect(codes(await app.gql(b.token, CORRECT, { f: event.id, e: [] }))).toEqual(['NOT_FOUND']);
      expect(codes(await app.gql(analyst, CORRECT, { f: 'not-an-id', e: [] }))).toEqual(['NOT_FOUND']);
    });
  });

  describe("a brand's own model", () => {
    it('trains on its catalog and corrections, serves extractDemands and feedback from then on, and leaves other brands on the shipped one', async () => {
      await published(a, { title: '古琴入门', topics: ['古琴'] });
      const started = (await app.ok(a.token, `mutation { trainModel(kind: NER) { id kind status } }`)).trainModel;
      expect(started).toMatchObject({ kind: 'NER', status: 'TRAINING' });
      const version = await waitFor(
        'the NER version',
        async () => {
          const v = (await app.ok(a.token, `{ models(kind: NER) { id status active metrics failure } }`)).models.find((m: any) => m.id === started.id);
          return v && v.status !== 'TRAINING' ? v : null;
        },
        120_000,
      );
      expect(version).toMatchObject({ status: 'READY', active: true, failure: null });
      expect(version.metrics).toMatchObject({ heldOut: 'generated', corrections: 1, gazetteerCourses: 2 });
      expect(version.metrics.f1).toBeGreaterThan(0);
      expect(version.metrics.f1).toBeLessThanOrEqual(1);

      const text = '想学古琴，预算两百元以内';
      // The activation reaches this instance by signal (on PostgreSQL, NOTIFY), at once or nearly.
      const own = await waitFor('the brand model served', async () => {
        const got = (await app.ok(a.token, EXTRACT, { t: text })).extractDemands;
        return got.model === started.id ? got : null;
      });
      expect(own.entities).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: 'TOPIC', text: '古琴' }),
          expect.objectContaining({ type: 'BUDGET', value: expect.objectContaining({ budget: { currency: 'CNY', minMinor: null, maxMinor: 20000 } }) }),
        ]),
      );
      expect((await app.ok(b.token, EXTRACT, { t: text })).extractDemands.model).toMatch(/^allied-default-ner-/);

      await feedback(a, [{ key: 'after-model', learner: 'fay', text }]);
      await untilDemands(a, 'fay');
      const [row] = await app.sql(`select distinct source from learner_demands d join events e on e.tenant_id = d.tenant_id and e.id = d.event_id where e.idempotency_key = 'after-model' and d.tenant_id = $1`, [a.id]);
      expect(row.source).toBe(started.id);
    });
  });

  describe('across brands', () => {
    it('gives an alliance member the alliance trends as counts only, and a non-member nothing', async () => {
      const { allianceId } = await activeAlliance(app, a, [b], [[a, 5000], [b, 5000]]);
      await feedback(b, [{ key: 'b-1', learner: 'eve', text: '有茶艺的线下课吗' }]);
      await untilDemands(b, 'eve');
      const joint = (await app.ok(b.token, TRENDS, { a: allianceId })).demandTrends;
      // Two learners of A and one of B asked for 茶艺.
      expect(joint.find((t: any) => t.demand === 'tea ceremony')).toMatchObject({ type: 'TOPIC', learners: 3 });
      expect(Object.keys(joint[0]).sort()).toEqual(['change', 'coveredByCatalog', 'demand', 'learners', 'previousLearners', 'type']);
      expect(codes(await app.gql(c.token, TRENDS, { a: allianceId }))).toEqual(['NOT_FOUND']);
      expect(codes(await app.gql(b.token, TRENDS, { a: 'not-an-id' }))).toEqual(['NOT_FOUND']);
      // What a single learner of the alliance asked for is not shown to the alliance.
      expect(joint.every((t: any) => t.learners >= 2)).toBe(true);
      const key = (t: any) => `${t.type}:${t.demand}`;
      const singles = (await app.ok(a.token, TRENDS, {})).demandTrends.filter((t: any) => t.learners === 1).map(key);
      expect(singles.length).toBeGreaterThan(0);
      for (const single of singles) expect(joint.map(key)).not.toContain(single);
    });

    it("raises a partner that publishes what the brand's learners ask for and its catalog lacks", async () => {
      const tea = await app.brand('Tea House');
      await published(tea, { title: 'Gongfu tea', topics: ['茶艺'] });
      const suggestions = (await app.ok(c.token, SUGGEST)).partnerSuggestions;
      expect(suggestions.find((s: any) => s.brand.id === tea.id).unmetDemands).toEqual([]);

      const fromA = (await app.ok(a.token, SUGGEST)).partnerSuggestions;
      const teaForA = fromA.find((s: any) => s.brand.id === tea.id);
      expect(teaForA.unmetDemands).toEqual(['tea ceremony']);
      expect(teaForA.rank).toBeGreaterThan(teaForA.complementarity);
      expect(teaForA.reason).toContain('tea ceremony');
      expect(fromA[0].brand.id).toBe(tea.id);
      for (let i = 1; i < fromA.length; i++) expect(fromA[i - 1].rank).toBeGreaterThanOrEqual(fromA[i].rank);
    });
  });
});
