import fc from 'fast-check';
import { netLoyaltyFlows, type LoyaltyFlow } from '../../src/services/loyalty-settlement';
import { fifo, purchasePoints, rulesProblems, tierOf, type LoyaltyRules } from '../../src/services/loyalty.service';

const RULES: LoyaltyRules = {
  earnRates: [{ currency: 'USD', points: 1 }, { currency: 'JPY', points: 1 }, { currency: 'CNY', points: 2 }],
  pointsPerComplete: 0,
  pointsPerRating: 0,
  dailyActivityCap: 0,
  redemptionValues: [{ currency: 'USD', minorPerPoint: 1 }],
  expiryMonths: 12,
  tiers: [{ name: 'SILVER', minPoints: 1000, discountBasisPoints: 500, earlyAccess: false }, { name: 'GOLD', minPoints: 5000, discountBasisPoints: 1000, earlyAccess: true }],
};

describe('loyalty arithmetic', () => {
  it('earns by the whole currency unit, rounded down, in each currency its own way', () => {
    expect(purchasePoints(19_900, 'USD', RULES)).toBe(199);
    expect(purchasePoints(19_999, 'USD', RULES)).toBe(199);
    expect(purchasePoints(9_900, 'JPY', RULES)).toBe(9_900); // no minor digits
    expect(purchasePoints(9_950, 'CNY', RULES)).toBe(199);
    expect(purchasePoints(5_000, 'EUR', RULES)).toBe(0); // no rate
  });

  it('never earns more for the parts of a purchase than for the whole', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 1, max: 10_000_000 }), fc.constantFrom('USD', 'JPY', 'CNY'), (a, b, currency) => {
        const parts = purchasePoints(a, currency, RULES) + purchasePoints(b, currency, RULES);
        const whole = purchasePoints(a + b, currency, RULES);
        // A refund in parts reverses at most what the purchase earned, and a purchase split in two earns at most one point less per part.
        expect(parts).toBeLessThanOrEqual(whole);
        expect(whole - parts).toBeLessThanOrEqual(1);
      }),
      { numRuns: 5000 },
    );
  });

  it('spends lots in their order, never more than any lot holds, exactly what was asked when there is enough', () => {
    const lots = fc.array(fc.record({ id: fc.uuid(), remaining: fc.integer({ min: 0, max: 10_000 }) }), { maxLength: 20 });
    fc.assert(
      fc.property(lots, fc.integer({ min: 0, max: 100_000 }), (open, points) => {
        const parts = fifo(open, points);
        const total = open.reduce((n, l) => n + l.remaining, 0);
        expect(parts.reduce((n, p) => n + p.points, 0)).toBe(Math.min(points, total));
        for (const p of parts) expect(p.points).toBeLessThanOrEqual(open.find((l) => l.id === p.lot)!.remaining);
        // First in first out: every lot before the last one used is used up.
        const used = parts.map((p) => open.findIndex((l) => l.id === p.lot));
        for (let i = 0; i < used.length - 1; i++) expect(parts[i].points).toBe(open[used[i]].remaining);
      }),
      { numRuns: 5000 },
    );
  });

  it('nets flows per pair: each line is what one owes the other less the reverse, and nothing is lost', () => {
    const brands = ['a', 'b', 'c', 'd'];
    const flow = fc.record({
      issuer: fc.constantFrom(...brands),
      redeemer: fc.constantFrom(...brands),
      points: fc.bigInt({ min: 1n, max: 1_000_000n }),
    });
    fc.assert(
      fc.property(fc.array(flow, { maxLength: 30 }), fc.integer({ min: 1, max: 100 }), (raw, perPoint) => {
        const flows: LoyaltyFlow[] = raw.map((f) => ({ ...f, valueMinor: f.points * BigInt(perPoint) }));
        const lines = netLoyaltyFlows(flows);
        const owes = (x: string, y: string) => flows.filter((f) => f.issuer === x && f.redeemer === y).reduce((n, f) => n + f.valueMinor, 0n);
        for (const l of lines) {
          expect(l.amountMinor).toBeGreaterThanOrEqual(0n);
          expect(l.grossMinor).toBe(owes(l.payerBrandId, l.payeeBrandId));
          expect(l.offsetMinor).toBe(owes(l.payeeBrandId, l.payerBrandId));
          expect(l.amountMinor).toBe(l.grossMinor - l.offsetMinor);
        }
        // Every brand's net position is the same computed from the lines and from the flows.
        for (const x of brands) {
          const fromFlows = flows.reduce((n, f) => n + (f.redeemer === x && f.issuer !== x ? f.valueMinor : 0n) - (f.issuer === x && f.redeemer !== x ? f.valueMinor : 0n), 0n);
          const fromLines = lines.reduce((n, l) => n + (l.payeeBrandId === x ? l.amountMinor : 0n) - (l.payerBrandId === x ? l.amountMinor : 0n), 0n);
          expect(fromLines).toBe(fromFlows);
        }
        const pairs = new Set(flows.filter((f) => f.issuer !== f.redeemer).map((f) => [f.issuer, f.redeemer].sort().join()));
        expect(lines).toHaveLength(pairs.size);
      }),
      { numRuns: 3000 },
    );
  });

  it('gives the highest tier reached', () => {
    expect(tierOf(RULES.tiers, 999)).toBeNull();
    expect(tierOf(RULES.tiers, 1000)?.name).toBe('SILVER');
    expect(tierOf(RULES.tiers, 5000)?.name).toBe('GOLD');
  });

  it('refuses rules with a currency twice, no redemption value or tiers that clash', () => {
    expect(rulesProblems(RULES)).toEqual([]);
    expect(rulesProblems({ ...RULES, earnRates: [...RULES.earnRates, { currency: 'USD', points: 3 }] })).toEqual(['each currency at most once in earnRates']);
    expect(rulesProblems({ ...RULES, redemptionValues: [] })).toEqual(['at least one redemption value']);
    expect(rulesProblems({ ...RULES, tiers: [...RULES.tiers, { ...RULES.tiers[0], name: 'silver ' }] })).toEqual(['tier names must differ', 'tier thresholds must differ']);
  });
});
