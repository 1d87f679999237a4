import fc from 'fast-check';
import { allocate } from '../../src/services/allocation';
import type { Share } from '../../src/services/shares';
import { perBrand, settle, type ModelEvent, type ModelVersion } from '../support/settlement-model';

const RUNS = 3000;
const brandIds = ['0a', '1b', '2c', '3d', '4e', '5f'].map((p) => `${p}000000-0000-4000-8000-000000000000`);

/** Whole basis points for n brands summing to exactly 10000 (zeros allowed). */
const sharesFor = (n: number) =>
  fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: n - 1, maxLength: n - 1 }).map((cuts) => {
    const points = [0, ...cuts.sort((a, b) => a - b), 10_000];
    return brandIds.slice(0, n).map((brandId, i) => ({ brandId, basisPoints: points[i + 1] - points[i] }));
  });
const someShares = fc.integer({ min: 1, max: 6 }).chain(sharesFor);
const amounts = (shares: Share[], net: bigint) => shares.map((s) => allocate(net, shares).get(s.brandId)!);

describe('allocate (largest remainder)', () => {
  it('gives the worked examples', () => {
    const [a, b, c] = brandIds;
    expect(amounts([{ brandId: a, basisPoints: 3333 }, { brandId: b, basisPoints: 3333 }, { brandId: c, basisPoints: 3334 }], 100n)).toEqual([33n, 33n, 34n]);
    expect(amounts([{ brandId: a, basisPoints: 5000 }, { brandId: b, basisPoints: 3000 }, { brandId: c, basisPoints: 2000 }], 999n)).toEqual([499n, 300n, 200n]);
    expect(amounts([{ brandId: a, basisPoints: 3333 }, { brandId: b, basisPoints: 3333 }, { brandId: c, basisPoints: 3334 }], -100n)).toEqual([-33n, -33n, -34n]);
    // Equal remainders: the lower brand id first, whatever order the shares come in.
    expect(amounts([{ brandId: b, basisPoints: 5000 }, { brandId: a, basisPoints: 5000 }], 1n)).toEqual([0n, 1n]);
    expect(amounts([{ brandId: c, basisPoints: 10_000 }], 12_345n)).toEqual([12_345n]);
  });

  it('refuses shares that are not whole basis points summing to 10000', () => {
    expect(() => allocate(10n, [{ brandId: brandIds[0], basisPoints: 9999 }])).toThrow();
    expect(() => allocate(10n, [{ brandId: brandIds[0], basisPoints: 10_001 }, { brandId: brandIds[1], basisPoints: -1 }])).toThrow();
  });

  it('always sums to net exactly, each amount within one unit of its exact share', () => {
    fc.assert(
      fc.property(someShares, fc.bigInt({ min: -(2n ** 53n), max: 2n ** 53n }), (shares, net) => {
        const split = allocate(net, shares);
        expect([...split.values()].reduce((s, x) => s + x, 0n)).toBe(net);
        for (const { brandId, basisPoints } of shares) {
          const diff = split.get(brandId)! * 10_000n - net * BigInt(basisPoints); // 10000 × (amount − exact)
          expect(diff > -10_000n && diff < 10_000n).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('does not depend on the order of the shares, and a negative net mirrors the positive one', () => {
    fc.assert(
      fc.property(someShares, fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.nat(), (shares, net, seed) => {
        const shuffled = [...shares].sort((x, y) => ((x.brandId.charCodeAt(0) * (seed + 7)) % 11) - ((y.brandId.charCodeAt(0) * (seed + 7)) % 11));
        const one = allocate(net, shares);
        expect(allocate(net, shuffled)).toEqual(one);
        const negative = allocate(-net, shares);
        for (const [brand, amount] of one) expect(negative.get(brand)).toBe(-amount);
      }),
      { numRuns: RUNS },
    );
  });
});

/** Random members, agreement versions (contiguous, as superseding makes them) and purchase/refund streams. */
const scenario = fc
  .record({ members: fc.integer({ min: 2, max: 5 }), versions: fc.integer({ min: 1, max: 3 }) })
  .chain(({ members, versions }) =>
    fc.record({
      shares: fc.array(sharesFor(members), { minLength: versions, maxLength: versions }),
      bounds: fc.uniqueArray(fc.integer({ min: 1, max: 999 }), { minLength: versions - 1, maxLength: versions - 1 }).map((b) => b.sort((x, y) => x - y)),
      firstFrom: fc.integer({ min: 0, max: 50 }),
      purchases: fc.array(
        fc.record({ at: fc.integer({ min: 0, max: 999 }), amount: fc.integer({ min: 1, max: 1_000_000 }), refunds: fc.array(fc.record({ after: fc.integer({ min: 0, max: 300 }), part: fc.integer({ min: 1, max: 4 }) }), { maxLength: 2 }) }),
        { maxLength: 40 },
      ),
      split: fc.integer({ min: 1, max: 1299 }),
    }),
  )
  .map(({ shares, bounds, firstFrom, purchases, split }) => {
    const starts = [firstFrom, ...bounds.filter((b) => b > firstFrom)];
    const versions: ModelVersion[] = starts.map((from, i) => ({ id: `v${i + 1}`, version: i + 1, from, to: starts[i + 1] ?? null, shares: shares[i] }));
    const events: ModelEvent[] = [];
    for (const p of purchases) {
      events.push({ type: 'PURCHASE', amount: p.amount, at: p.at, purchaseAt: p.at });
      let left = p.amount;
      for (const r of p.refunds) {
        const amount = Math.floor(left / r.part);
        if (amount < 1) continue;
        left -= amount;
        events.push({ type: 'REFUND', amount, at: p.at + r.after, purchaseAt: p.at });
      }
    }
    return { versions, events, split };
  });

describe('settling a period (model over random members, versions and events)', () => {
  const END = 1300;

  it('lines sum to net exactly, and net = gross − refunds', () => {
    fc.assert(
      fc.property(scenario, ({ versions, events }) => {
        const s = settle(events, versions, 0, END);
        expect(s.lines.reduce((sum, l) => sum + l.amount, 0n)).toBe(s.net);
        expect(s.net).toBe(s.gross - s.refunds);
        for (const v of new Set(s.lines.map((l) => l.agreementId))) {
          const lines = s.lines.filter((l) => l.agreementId === v);
          expect(lines.reduce((sum, l) => sum + l.amount, 0n)).toBe(lines[0].versionNet);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('does not depend on the order of the events', () => {
    fc.assert(
      fc.property(scenario, fc.nat(), ({ versions, events }, seed) => {
        const shuffled = events.map((e, i) => ({ e, k: (i * 2_654_435_761 + seed) % 4_294_967_296 })).sort((x, y) => x.k - y.k).map((x) => x.e);
        expect(settle(shuffled, versions, 0, END)).toEqual(settle(events, versions, 0, END));
      }),
      { numRuns: RUNS },
    );
  });

  it('settling two halves gives each member within one unit per agreement version of settling the whole', () => {
    fc.assert(
      fc.property(scenario, ({ versions, events, split }) => {
        const whole = settle(events, versions, 0, END);
        const first = settle(events, versions, 0, split);
        const second = settle(events, versions, split, END);
        expect(first.net + second.net).toBe(whole.net);
        expect(first.events + second.events).toBe(whole.events);
        for (const v of versions) {
          const of = (s: typeof whole) => perBrand(s.lines.filter((l) => l.agreementId === v.id));
          const [w, a, b] = [of(whole), of(first), of(second)];
          for (const { brandId } of v.shares) {
            const diff = (a.get(brandId) ?? 0n) + (b.get(brandId) ?? 0n) - (w.get(brandId) ?? 0n);
            expect(diff >= -1n && diff <= 1n).toBe(true);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});
