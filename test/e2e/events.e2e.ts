import type { EventInput } from '../../src/schema/event.types';
import { EventService, type AfterStoreHook, type StoredEvent } from '../../src/services/event.service';
import { Principal } from '../../src/tenancy/principal';
import { Role } from '../../src/tenancy/roles';
import { Q, createAlliance, propose } from '../support/alliances';
import { codes, TestApp, type TestBrand } from '../support/server';

const RECORD = `mutation($events: [EventInput!]!) { recordEvents(events: $events) { accepted duplicates rejected { index code message } } }`;
const at = '2026-05-01T10:00:00Z';

describe('recordEvents', () => {
  let app: TestApp;
  let a: TestBrand;
  let b: TestBrand;
  let course: string;
  let bCourse: string;
  let campaign: string;
  let creative: string;
  let otherCreative: string;
  let bCampaign: string;
  let seq = 0;

  const key = () => `k-${++seq}-${Math.random().toString(36).slice(2, 8)}`;
  const ev = (over: Record<string, unknown> = {}) => ({ idempotencyKey: key(), type: 'CLICK', learnerExternalId: 'learner-1', occurredAt: at, ...over });
  const purchase = (over: Record<string, unknown> = {}) => ev({ type: 'PURCHASE', courseId: course, amount: { amountMinor: 1000, currency: 'USD' }, ...over });
  const record = async (brand: TestBrand, events: unknown[]) => (await app.ok(brand.token, RECORD, { events })).recordEvents;
  const count = async (brand: TestBrand) => (await app.sql('select count(*)::int as n from events where tenant_id = $1', [brand.id]))[0].n;

  beforeAll(async () => {
    app = await TestApp.start();
    a = await app.brand('Events Academy');
    b = await app.brand('Events Other');
    course = await app.course(a, { title: 'Tracked course' });
    bCourse = await app.course(b, { title: 'Other course' });
    const make = async (brand: TestBrand, name: string) =>
      (await app.ok(brand.token, `mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { id } }`, {
        i: { name, kind: 'AD_PLACEMENT', startsAt: '2026-01-01T00:00:00Z', budget: { amountMinor: 1000, currency: 'USD' } },
      })).createCampaign.id;
    campaign = await make(a, 'Tracked campaign');
    const second = await make(a, 'Second campaign');
    bCampaign = await make(b, 'Other campaign');
    const addCreative = async (c: string) =>
      (await app.ok(a.token, `mutation($c: ID!) { addCreative(campaignId: $c, input: { channel: SOCIAL, headline: "h" }) { id } }`, { c })).addCreative.id;
    creative = await addCreative(campaign);
    otherCreative = await addCreative(second);
  });
  afterAll(() => app.stop());

  it('stores valid events of every type and creates learners on first sight', async () => {
    const events = [
      ev({ type: 'IMPRESSION', campaignId: campaign, creativeId: creative, learnerExternalId: 'new-learner' }),
      ev({ type: 'CLICK', creativeId: creative, learnerExternalId: 'new-learner' }),
      ev({ type: 'VIEW', courseId: course }),
      ev({ type: 'ENROLL', courseId: course }),
      purchase({ campaignId: campaign }),
      ev({ type: 'RATING', courseId: course, rating: 5 }),
      ev({ type: 'FEEDBACK', courseId: course, text: '希望有更多周末的直播课 — more weekend live classes please' }),
      ev({ type: 'COMPLETE', courseId: course }),
    ];
    expect(await record(a, events)).toEqual({ accepted: 8, duplicates: 0, rejected: [] });
    const learner = await app.ok(a.token, '{ learner(externalId: "new-learner") { id externalId } }');
    expect(learner.learner.externalId).toBe('new-learner');
    const [click] = await app.sql(`select campaign_id from events where tenant_id = $1 and idempotency_key = $2`, [a.id, events[1].idempotencyKey]);
    expect(click.campaign_id).toBe(campaign); // a creative names its campaign
  });

  it('rejects each bad event with its index and code, and stores the rest', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [ev({ type: 'CLICK', amount: { amountMinor: 5, currency: 'USD' } }), 'UNEXPECTED_FIELD'],
      [ev({ type: 'PURCHASE', courseId: course }), 'MISSING_AMOUNT'],
      [purchase({ courseId: null }), 'MISSING_COURSE'],
      [purchase({ amount: { amountMinor: 0, currency: 'USD' } }), 'INVALID_AMOUNT'],
      [purchase({ amount: { amountMinor: 10, currency: 'XYZ' } }), 'INVALID_CURRENCY'],
      [ev({ type: 'REFUND', courseId: course, amount: { amountMinor: 1, currency: 'USD' } }), 'MISSING_REFUND_OF'],
      [purchase({ refundOf: 'x' }), 'UNEXPECTED_FIELD'],
      [ev({ type: 'RATING', rating: 6 }), 'INVALID_RATING'],
      [ev({ type: 'RATING' }), 'INVALID_RATING'],
      [ev({ type: 'CLICK', rating: 3 }), 'UNEXPECTED_FIELD'],
      [ev({ type: 'FEEDBACK', text: '   ' }), 'MISSING_TEXT'],
      [ev({ type: 'FEEDBACK', text: 'x'.repeat(4001) }), 'TEXT_TOO_LONG'],
      [ev({ type: 'VIEW', text: 'hi' }), 'UNEXPECTED_FIELD'],
      [ev({ idempotencyKey: '' }), 'INVALID_IDEMPOTENCY_KEY'],
      [ev({ learnerExternalId: 'x'.repeat(201) }), 'INVALID_LEARNER'],
      [ev({ courseId: bCourse }), 'UNKNOWN_COURSE'],
      [ev({ courseId: 'not-an-id' }), 'UNKNOWN_COURSE'],
      [ev({ campaignId: bCampaign }), 'UNKNOWN_CAMPAIGN'],
      [ev({ campaignId: campaign, creativeId: otherCreative }), 'CREATIVE_NOT_IN_CAMPAIGN'],
    ];
    const before = await count(a);
    const good = [ev(), ev({ type: 'VIEW', courseId: course })];
    const batch = [good[0], ...cases.map(([e]) => e), good[1]];
    const result = await record(a, batch);
    expect(result.accepted).toBe(2);
    expect(result.duplicates).toBe(0);
    expect(result.rejected.map((r: any) => [r.index, r.code])).toEqual(cases.map(([, code], i) => [i + 1, code]));
    for (const r of result.rejected) expect(r.message.length).toBeGreaterThan(5);
    expect(await count(a)).toBe(before + 2);
  });

  it('a repeated key is a duplicate whatever else it says, and is never stored twice', async () => {
    const first = purchase();
    expect(await record(a, [first])).toMatchObject({ accepted: 1, duplicates: 0 });
    const before = await count(a);
    const changed = { ...first, type: 'RATING', rating: 1, amount: null, courseId: null };
    const invalid = { ...first, type: 'RATING', rating: 99 };
    const twiceInBatch = ev();
    expect(await record(a, [first, changed, invalid, twiceInBatch, twiceInBatch])).toEqual({ accepted: 1, duplicates: 4, rejected: [] });
    expect(await count(a)).toBe(before + 1);
  });

  it('concurrent batches with overlapping keys store each event exactly once', async () => {
    const events = Array.from({ length: 60 }, (_, i) => ev({ learnerExternalId: `racer-${i % 7}` }));
    const before = await count(a);
    const batches = Array.from({ length: 8 }, (_, i) => events.slice((i * 7) % 30, ((i * 7) % 30) + 30));
    const results = await Promise.all([...batches, events].map((batch) => app.gql(a.token, RECORD, { events: batch })));
    for (const r of results) expect(r.errors).toBeUndefined();
    const totals = results.map((r) => r.data.recordEvents);
    expect(totals.reduce((s, t) => s + t.accepted, 0)).toBe(60);
    expect(await count(a)).toBe(before + 60);
    const [{ n }] = await app.sql(`select count(*)::int as n from learners where tenant_id = $1 and external_id like 'racer-%'`, [a.id]);
    expect(n).toBe(7);
  });

  describe('refunds', () => {
    it('must name a purchase of the brand, for its course and currency, and never exceed it', async () => {
      const p = purchase({ amount: { amountMinor: 1000, currency: 'USD' } });
      await record(a, [p]);
      const refund = (amountMinor: number, over: Record<string, unknown> = {}) =>
        ev({ type: 'REFUND', courseId: course, refundOf: p.idempotencyKey, amount: { amountMinor, currency: 'USD' }, ...over });
      const result = await record(a, [
        refund(600),
        refund(300),
        refund(200),
        refund(100),
        refund(1, { refundOf: 'no-such-purchase' }),
        refund(1, { amount: { amountMinor: 1, currency: 'EUR' } }),
      ]);
      expect(result.accepted).toBe(3);
      expect(result.rejected.map((r: any) => [r.index, r.code])).toEqual([
        [2, 'REFUND_EXCEEDS_PURCHASE'],
        [4, 'UNKNOWN_PURCHASE'],
        [5, 'REFUND_CURRENCY_MISMATCH'],
      ]);
      const [{ total }] = await app.sql(
        `select sum(amount_minor)::int as total from events where tenant_id = $1 and type = 'REFUND' and refund_of = (select id from events where tenant_id = $1 and idempotency_key = $2)`,
        [a.id, p.idempotencyKey],
      );
      expect(total).toBe(1000);
      expect((await record(b, [refund(1, { courseId: bCourse })])).rejected[0].code).toBe('UNKNOWN_PURCHASE');
    });

    it('may name a purchase from the same batch; racing refunds never exceed the purchase', async () => {
      const p = purchase({ amount: { amountMinor: 500, currency: 'USD' } });
      const r1 = ev({ type: 'REFUND', courseId: course, refundOf: p.idempotencyKey, amount: { amountMinor: 200, currency: 'USD' } });
      expect(await record(a, [r1, p])).toMatchObject({ accepted: 2, rejected: [] });
      const racing = Array.from({ length: 6 }, () =>
        ev({ type: 'REFUND', courseId: course, refundOf: p.idempotencyKey, amount: { amountMinor: 100, currency: 'USD' } }),
      );
      const results = await Promise.all(racing.map((r) => record(a, [r])));
      expect(results.reduce((s: number, r: any) => s + r.accepted, 0)).toBe(3);
      const [{ total }] = await app.sql(
        `select sum(amount_minor)::int as total from events where tenant_id = $1 and refund_of = (select id from events where tenant_id = $1 and idempotency_key = $2)`,
        [a.id, p.idempotencyKey],
      );
      expect(total).toBe(500);
    });
  });

  it('whole-request errors store nothing: 1001 events, malformed times, amounts beyond SafeInt', async () => {
    const before = await count(a);
    const many = Array.from({ length: 1001 }, () => ev());
    const tooMany = await app.gql(a.token, RECORD, { events: many });
    expect(codes(tooMany)).toEqual(['BAD_USER_INPUT']);
    expect(tooMany.errors?.[0].message).toMatch(/At most 1000/);
    expect(codes(await app.gql(a.token, RECORD, { events: [ev(), ev({ occurredAt: 'yesterday' })] }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await app.gql(a.token, RECORD, { events: [purchase({ amount: { amountMinor: 2 ** 53, currency: 'USD' } })] }))).toEqual(['BAD_USER_INPUT']);
    expect(await count(a)).toBe(before);
    expect((await record(a, many.slice(0, 1000))).accepted).toBe(1000);
  });

  it('joint courses tag their events with the alliance; learners never cross brands', async () => {
    const allianceId = await createAlliance(app, a, [b], 'Event alliance');
    await app.ok(b.token, Q.respond, { a: allianceId, yes: true });
    const v1 = await propose(app, a, allianceId, [[a, 5000], [b, 5000]]);
    await app.ok(b.token, Q.accept, { id: v1.id });
    const joint = await app.course(a, { title: 'Joint tracked', allianceId });
    const sale = purchase({ courseId: joint, learnerExternalId: 'shared-name' });
    expect((await record(b, [sale])).accepted).toBe(1);
    const [row] = await app.sql(`select tenant_id, alliance_id, course_tenant_id from events where idempotency_key = $1`, [sale.idempotencyKey]);
    expect(row).toEqual({ tenant_id: b.id, alliance_id: allianceId, course_tenant_id: a.id });
    const aLearners = await app.ok(a.token, '{ learner(externalId: "shared-name") { id } }');
    expect(aLearners.learner).toBeNull();
  });

  it('INGEST, EDITOR, ADMIN and OWNER may record; ANALYST may not', async () => {
    for (const role of [Role.INGEST, Role.EDITOR, Role.ADMIN]) {
      expect((await app.ok(app.token(a.id, [role]), RECORD, { events: [ev()] })).recordEvents.accepted).toBe(1);
    }
    expect(codes(await app.gql(app.token(a.id, [Role.ANALYST]), RECORD, { events: [ev()] }))).toEqual(['FORBIDDEN']);
  });

  describe('after-store hooks', () => {
    /** An EventService like the application's, with `hooks`, recording through runAs as an EDITOR of `a`. */
    function recorder(hooks: AfterStoreHook[]) {
      const { services, runAs } = app.server.app;
      const events = new EventService(services.courses, services.campaigns, hooks);
      return (input: unknown[]) =>
        runAs(new Principal('hook-test', a.id, [Role.EDITOR], 'jwt'), (ctx) => events.record(ctx, input as EventInput[]));
    }
    const input = (over: Record<string, unknown> = {}) => ({ ...purchase(over), occurredAt: new Date(at) });

    it('see the events stored by the call, in its transaction, and nothing else', async () => {
      const seen: StoredEvent[][] = [];
      const record = recorder([
        async (ctx, stored) => {
          seen.push([...stored]);
          // In the same transaction: the rows are already there for the hook.
          const [{ n }] = await (await ctx.manager()).query(`select count(*)::int as n from events where id = any($1::uuid[])`, [stored.map((e) => e.id)]);
          expect(n).toBe(stored.length);
        },
      ]);
      const [first, second] = [input(), input()];
      const result = await record([first, second, { ...input(), amount: { amountMinor: -1, currency: 'USD' } }]);
      expect(result).toMatchObject({ accepted: 2, duplicates: 0 });
      expect(seen).toHaveLength(1);
      expect(seen[0].map((e) => e.key).sort()).toEqual([first.idempotencyKey, second.idempotencyKey].sort());
      expect(seen[0].every((e) => e.type === 'PURCHASE' && e.course === course && e.amount === 1000)).toBe(true);
      // A call that stores nothing new (a duplicate) runs no hook.
      expect(await record([first])).toMatchObject({ accepted: 0, duplicates: 1 });
      expect(seen).toHaveLength(1);
    });

    it('roll the whole call back when one throws', async () => {
      const before = await count(a);
      const record = recorder([
        async () => {
          throw new Error('the ledger is closed');
        },
      ]);
      await expect(record([input(), input()])).rejects.toThrow('the ledger is closed');
      expect(await count(a)).toBe(before);
    });
  });
});
