import fc from 'fast-check';
import { complementarity } from '../../src/services/partner.service';
import { shareProblems, TOTAL_BASIS_POINTS } from '../../src/services/shares';

const brandIds = fc.uniqueArray(fc.uuid(), { minLength: 1, maxLength: 8 });

/** Splits 10000 basis points among n brands at random cut points. */
const split = (n: number) =>
  fc.uniqueArray(fc.integer({ min: 1, max: TOTAL_BASIS_POINTS - 1 }), { minLength: n - 1, maxLength: n - 1 }).map((cuts) => {
    const points = [0, ...cuts.sort((x, y) => x - y), TOTAL_BASIS_POINTS];
    return points.slice(1).map((p, i) => p - points[i]);
  });

describe('share validation', () => {
  it('accepts every split of 10000 among exactly the ACTIVE members, in any order', () => {
    fc.assert(
      fc.property(
        brandIds.chain((members) => fc.tuple(fc.constant(members), split(members.length), fc.nat())),
        ([members, points, seed]) => {
          const shares = members.map((brandId, i) => ({ brandId, basisPoints: points[i] }));
          const rotated = shares.map((_s, i) => shares[(i + seed) % shares.length]);
          expect(shareProblems(members, rotated)).toEqual([]);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('is valid exactly when one share per member, each 0..10000, summing to 10000', () => {
    fc.assert(
      fc.property(
        brandIds,
        fc.array(fc.record({ pick: fc.nat(), outsider: fc.boolean(), basisPoints: fc.integer({ min: -2000, max: 12000 }) }), { maxLength: 9 }),
        (members, raw) => {
          const shares = raw.map((r) => ({
            brandId: r.outsider ? `outsider-${r.pick % 3}` : members[r.pick % members.length],
            basisPoints: r.basisPoints,
          }));
          const ids = shares.map((s) => s.brandId);
          const valid =
            ids.length === new Set(ids).size &&
            ids.every((id) => members.includes(id)) &&
            members.every((m) => ids.includes(m)) &&
            shares.every((s) => s.basisPoints >= 0 && s.basisPoints <= TOTAL_BASIS_POINTS) &&
            shares.reduce((sum, s) => sum + s.basisPoints, 0) === TOTAL_BASIS_POINTS;
          expect(shareProblems(members, shares).length === 0).toBe(valid);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('names each problem', () => {
    expect(shareProblems(['a', 'b'], [{ brandId: 'a', basisPoints: 1.5 }, { brandId: 'x', basisPoints: 9000 }])).toEqual([
      'the share of brand a must be a whole number of basis points in 0..10000',
      'brand x is not an ACTIVE member of the alliance',
      'ACTIVE member b has no share',
      'shares sum to 9001.5 basis points; they must sum to exactly 10000',
    ]);
  });
});

describe('resource complementarity', () => {
  it('follows the documented worked example', () => {
    const { score, fills } = complementarity({ content: 0.9, venue: 0.1 }, { venue: 0.95, audience: 0.5 });
    expect(score).toBe(0.28);
    expect(fills.map((f) => f.capability)).toEqual(['venue', 'audience']);
  });

  it('is always in 0..1, 0 for a partner with nothing, and 1 for a partner that fills every gap', () => {
    const resources = fc.dictionary(fc.constantFrom('content', 'technology', 'channels', 'audience', 'venue', 'capital', 'media'), fc.double({ min: 0, max: 1, noNaN: true }));
    fc.assert(
      fc.property(resources, resources, (mine, theirs) => {
        const { score } = complementarity(mine, theirs);
        expect(score).toBeGreaterThanOrEqual(0);
        expect(score).toBeLessThanOrEqual(1);
        expect(complementarity(mine, {}).score).toBe(0);
        const full = Object.fromEntries(['content', 'technology', 'channels', 'audience', 'venue', 'capital', 'media', ...Object.keys(mine)].map((k) => [k, 1]));
        const best = complementarity(mine, full).score;
        expect(best === 1 || best === 0).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
