import fc from 'fast-check';
import { Q, activeAlliance, propose } from '../support/alliances';
import { codes, TestApp, type TestBrand } from '../support/server';
import { perBrand, settle, type ModelEvent, type ModelVersion } from '../support/settlement-model';
import { FINALIZE, RECORD, RUN, runSettlement } from '../support/settlements';

const HOUR = 3_600_000;
const T0 = Date.parse('2025-01-01T00:00:00Z');
const END = T0 + 1400 * HOUR;
const RUNS = Number(process.env.SETTLEMENT_PROPERTY_RUNS ?? 12);
const iso = (t: number) => new Date(t).toISOString();

/** Random members, agreement versions and purchase/refund streams, as the database will hold them. */
const scenario = fc.record({
  members: fc.integer({ min: 2, max: 4 }),
  versionStarts: fc.uniqueArray(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 3 }).map((s) => s.sort((x, y) => x - y)),
  cuts: fc.array(fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 3, maxLength: 3 }), { minLength: 3, maxLength: 3 }),
  purchases: fc.array(
    fc.record({
      hour: fc.integer({ min: 0, max: 1200 }),
      amount: fc.integer({ min: 1, max: 1_000_000 }),
      by: fc.nat(),
      refunds: fc.array(fc.record({ after: fc.integer({ min: 1, max: 150 }), part: fc.integer({ min: 1, max: 3 }) }), { maxLength: 2 }),
    }),
    { minLength: 1, maxLength: 30 },
  ),
  split: fc.integer({ min: 1, max: 1399 }),
});

/**
 * The settlement invariants against the real database, for random members,
 * shares, agreement versions and event streams: the server's settlement
 * equals the one computed directly from the events (lines summing to net
 * exactly); two FINALIZED halves never count an event twice, never overlap,
 * and give each member within one unit per agreement version of the whole.
 * (The same properties run thousands of times on the pure split in
 * test/unit/allocation.spec.ts.)
 */
describe('settlement properties on the database', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await TestApp.start();
  });
  afterAll(() => app.stop());

  const samples = fc.sample(scenario, { numRuns: RUNS, seed: 20261123 });

  it.each(samples.map((s, i) => [i, s] as const))('scenario %i', async (i, s) => {
    const brands: TestBrand[] = [];
    for (let m = 0; m < s.members; m++) brands.push(await app.brand(`Prop ${i}-${m}`));
    const sharesOf = (v: number): [TestBrand, number][] => {
      const points = [0, ...s.cuts[v].slice(0, s.members - 1).sort((x, y) => x - y), 10_000];
      return brands.map((b, k) => [b, points[k + 1] - points[k]]);
    };
    const starts = s.versionStarts.map((h) => T0 + h * HOUR);
    const { allianceId, agreementId } = await activeAlliance(app, brands[0], brands.slice(1), sharesOf(0), iso(starts[0]));
    const versions: ModelVersion[] = [{ id: agreementId, version: 1, from: starts[0], to: starts[1] ?? null, shares: sharesOf(0).map(([b, bp]) => ({ brandId: b.id, basisPoints: bp })) }];
    for (let v = 1; v < starts.length; v++) {
      const next = await propose(app, brands[0], allianceId, sharesOf(v), iso(starts[v]));
      for (const b of brands.slice(1)) await app.ok(b.token, Q.accept, { id: next.id });
      versions.push({ id: next.id, version: v + 1, from: starts[v], to: starts[v + 1] ?? null, shares: sharesOf(v).map(([b, bp]) => ({ brandId: b.id, basisPoints: bp })) });
    }
    const course = await app.course(brands[0], { title: `Joint ${i}`, allianceId });

    const events: ModelEvent[] = [];
    const byBrand = new Map<TestBrand, unknown[]>();
    s.purchases.forEach((p, n) => {
      const brand = brands[p.by % brands.length];
      const at = T0 + p.hour * HOUR;
      const list = byBrand.get(brand) ?? [];
      list.push({ idempotencyKey: `p${n}`, type: 'PURCHASE', learnerExternalId: `l${n}`, occurredAt: iso(at), courseId: course, amount: { amountMinor: p.amount, currency: 'USD' } });
      events.push({ type: 'PURCHASE', amount: p.amount, at, purchaseAt: at });
      let left = p.amount;
      p.refunds.forEach((r, k) => {
        const amount = Math.floor(left / r.part);
        if (amount < 1) return;
        left -= amount;
        const rAt = at + r.after * HOUR;
        list.push({ idempotencyKey: `p${n}-r${k}`, type: 'REFUND', learnerExternalId: `l${n}`, occurredAt: iso(rAt), courseId: course, refundOf: `p${n}`, amount: { amountMinor: amount, currency: 'USD' } });
        events.push({ type: 'REFUND', amount, at: rAt, purchaseAt: at });
      });
      byBrand.set(brand, list);
    });
    for (const [brand, list] of byBrand) {
      const res = await app.ok(brand.token, RECORD, { events: list.reverse() });
      expect(res.recordEvents.rejected).toEqual([]);
    }

    const lead = brands[0];
    const asModel = (x: any) => ({
      net: BigInt(x.net.amountMinor),
      events: x.eventCount,
      unsettled: x.unsettledEventCount,
      lines: x.lines.map((l: any) => [l.agreementVersion, l.brand.id, BigInt(l.amount.amountMinor)]),
    });
    const fromModel = (m: ReturnType<typeof settle>) => ({
      net: m.net,
      events: m.events,
      unsettled: m.unsettled,
      lines: m.lines.map((l) => [l.version, l.brandId, l.amount]),
    });

    const whole = await runSettlement(app, lead, allianceId, 'USD', iso(T0), iso(END));
    const model = settle(events, versions, T0, END);
    expect(asModel(whole)).toEqual(fromModel(model));
    expect(whole.lines.reduce((sum: number, l: any) => sum + l.amount.amountMinor, 0)).toBe(whole.net.amountMinor);
    expect(whole.gross.amountMinor - whole.refunds.amountMinor).toBe(whole.net.amountMinor);

    const mid = T0 + s.split * HOUR;
    const halves = [];
    for (const [from, to] of [[T0, mid], [mid, END]]) {
      const half = await runSettlement(app, lead, allianceId, 'USD', iso(from), iso(to));
      expect(asModel(half)).toEqual(fromModel(settle(events, versions, from, to)));
      halves.push((await app.ok(lead.token, FINALIZE, { id: half.id })).finalizeSettlement);
    }
    // No event in two FINALIZED settlements: the whole can no longer be finalized nor re-run, and the halves add up.
    expect(codes(await app.gql(lead.token, FINALIZE, { id: whole.id }))).toEqual(['CONFLICT']);
    expect(codes(await app.gql(lead.token, RUN, { i: { allianceId, currency: 'USD', periodStart: iso(mid - HOUR), periodEnd: iso(mid + HOUR) } }))).toEqual(['CONFLICT']);
    expect(halves[0].eventCount + halves[1].eventCount).toBe(whole.eventCount);
    expect(halves[0].net.amountMinor + halves[1].net.amountMinor).toBe(whole.net.amountMinor);
    for (const v of versions) {
      const of = (x: any) => perBrand(x.lines.filter((l: any) => l.agreementVersion === v.version).map((l: any) => ({ brandId: l.brand.id, amount: BigInt(l.amount.amountMinor) })));
      const [w, a, b] = [of(whole), of(halves[0]), of(halves[1])];
      for (const { brandId } of v.shares) {
        const diff = (a.get(brandId) ?? 0n) + (b.get(brandId) ?? 0n) - (w.get(brandId) ?? 0n);
        expect(diff >= -1n && diff <= 1n).toBe(true);
      }
    }
  });
});
