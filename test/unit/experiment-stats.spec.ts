import { Random } from '../../src/ml/train/random';
import { assignArm, compareProportions, normalQuantile, wilson } from '../../src/services/experiment-stats';

describe('compareProportions', () => {
  it('matches a hand computation', () => {
    // Control 100/1000 = 0.10, treatment 130/1000 = 0.13, d = 0.03, z(0.975) = 1.959964.
    //
    // p-value, pooled: p̂ = 230/2000 = 0.115, SE = √(0.115 · 0.885 · (1/1000 + 1/1000)) = √0.00020355 = 0.0142671,
    //   z = 0.03 / 0.0142671 = 2.102741, p = 2(1 − Φ(2.102741)) = 0.035488.
    // Wilson, n = 1000: denominator 1 + z²/n = 1.0038415;
    //   control: centre (0.10 + 0.0019208)/1.0038415 = 0.1015307, half 1.959964/1.0038415 · √(0.00009 + 0.00000096) = 0.0186213
    //     → [0.0829094, 0.1201520];
    //   treatment: centre (0.13 + 0.0019208)/1.0038415 = 0.1314159, half 1.959964/1.0038415 · √(0.000113 + 0.00000096) = 0.0208521
    //     → [0.1105638, 0.1522680].
    // Newcombe: lo = 0.03 − √((0.13 − 0.1105638)² + (0.1201520 − 0.10)²) = 0.03 − √(0.00037777 + 0.00040610) = 0.0020023,
    //           hi = 0.03 + √((0.1522680 − 0.13)² + (0.10 − 0.0829094)²) = 0.03 + √(0.00049586 + 0.00029209) = 0.0580705.
    const r = compareProportions({ exposures: 1000, conversions: 100 }, { exposures: 1000, conversions: 130 });
    expect(r.rateControl).toBe(0.1);
    expect(r.rateTreatment).toBe(0.13);
    expect(r.absoluteLift).toBeCloseTo(0.03, 12);
    expect(r.relativeLift).toBeCloseTo(0.3, 12);
    expect(r.pValue).toBeCloseTo(0.035488, 6);
    expect(r.ci[0]).toBeCloseTo(0.0020023, 6);
    expect(r.ci[1]).toBeCloseTo(0.0580705, 6);
    expect(r.significant).toBe(true);
    expect(r.method).toMatch(/pooled/);
    expect(r.method).toMatch(/Newcombe/);
    expect(wilson(100, 1000, normalQuantile(0.975))).toEqual([expect.closeTo(0.0829094, 7), expect.closeTo(0.120152, 6)]);
  });

  it("matches Newcombe's published example", () => {
    // Newcombe (1998), Statistics in Medicine 17:873–890, Table II (a): 56/70 − 48/80 = 0.2, method 10: 0.0524 to 0.3339.
    const r = compareProportions({ exposures: 80, conversions: 48 }, { exposures: 70, conversions: 56 });
    expect(r.ci[0]).toBeCloseTo(0.0524, 4);
    expect(r.ci[1]).toBeCloseTo(0.3339, 4);
  });

  it('handles a zero rate, a 100% rate and no exposures without NaN', () => {
    // Control 0/50, treatment 5/50: p̂ = 5/100, SE = √(0.05 · 0.95 · 0.04) = 0.0435890, z = 0.1/0.0435890 = 2.294157, p = 0.021781.
    // Wilson of 0/50: [0, 0.0713476]; of 5/50: [0.0434758, 0.2136023].
    // lo = 0.1 − √((0.1 − 0.0434758)² + 0.0713476²) = 0.0089754; hi = 0.1 + √((0.2136023 − 0.1)² + 0) = 0.2136023.
    const zero = compareProportions({ exposures: 50, conversions: 0 }, { exposures: 50, conversions: 5 });
    expect(zero.relativeLift).toBeNull();
    expect(zero.pValue).toBeCloseTo(0.021781, 6);
    expect(zero.ci[0]).toBeCloseTo(0.0089754, 6);
    expect(zero.ci[1]).toBeCloseTo(0.2136023, 6);

    // Both 20/20: the pooled SE is 0, so p = 1; each Wilson interval is [0.8388748, 1], the difference ±0.1611252.
    const full = compareProportions({ exposures: 20, conversions: 20 }, { exposures: 20, conversions: 20 });
    expect(full).toMatchObject({ rateControl: 1, rateTreatment: 1, absoluteLift: 0, relativeLift: 0, pValue: 1, significant: false });
    expect(full.ci[0]).toBeCloseTo(-0.1611252, 6);
    expect(full.ci[1]).toBeCloseTo(0.1611252, 6);

    const none = compareProportions({ exposures: 0, conversions: 0 }, { exposures: 0, conversions: 0 });
    expect(none).toMatchObject({ rateControl: 0, rateTreatment: 0, absoluteLift: 0, relativeLift: null, ci: [-1, 1], pValue: 1, significant: false });
    const oneSided = compareProportions({ exposures: 0, conversions: 0 }, { exposures: 10, conversions: 10 });
    expect(oneSided.pValue).toBe(1);
    for (const r of [zero, full, none, oneSided]) for (const v of [r.rateControl, r.rateTreatment, r.absoluteLift, r.pValue, ...r.ci]) expect(Number.isFinite(v)).toBe(true);
  });

  it('rejects impossible counts and confidences', () => {
    expect(() => compareProportions({ exposures: 5, conversions: 6 }, { exposures: 5, conversions: 1 })).toThrow(RangeError);
    expect(() => compareProportions({ exposures: -1, conversions: 0 }, { exposures: 5, conversions: 1 })).toThrow(RangeError);
    expect(() => compareProportions({ exposures: 5, conversions: 1.5 }, { exposures: 5, conversions: 1 })).toThrow(RangeError);
    expect(() => compareProportions({ exposures: 5, conversions: 1 }, { exposures: 5, conversions: 1 }, 1)).toThrow(RangeError);
  });

  it('covers a planted lift with its 95% interval in at least 93 of 100 seeded runs', () => {
    // True rates 0.10 and 0.12 (lift 0.02), 4,000 exposures per arm, each conversion a Bernoulli draw.
    const random = new Random(2024);
    const draw = (n: number, p: number) => {
      let x = 0;
      for (let i = 0; i < n; i++) if (random.next() < p) x++;
      return x;
    };
    let covered = 0;
    let rejected = 0;
    for (let run = 0; run < 100; run++) {
      const r = compareProportions({ exposures: 4000, conversions: draw(4000, 0.1) }, { exposures: 4000, conversions: draw(4000, 0.12) });
      if (r.ci[0] <= 0.02 && 0.02 <= r.ci[1]) covered++;
      if (r.significant) rejected++;
    }
    expect(covered).toBeGreaterThanOrEqual(93);
    // The power of this design is about 0.8; the z-test should find the lift most of the time.
    expect(rejected).toBeGreaterThan(60);
  });
});

describe('assignArm', () => {
  it('is deterministic and sticky', () => {
    const arm = assignArm('exp-1', 'learner-42', [1, 1]);
    for (let i = 0; i < 5; i++) expect(assignArm('exp-1', 'learner-42', [1, 1])).toBe(arm);
    // Weights are relative: scaling them changes nothing.
    for (let i = 0; i < 200; i++) expect(assignArm('exp-1', `l${i}`, [0.5, 0.5])).toBe(assignArm('exp-1', `l${i}`, [3, 3]));
    expect(assignArm('exp-1', 'learner-42', [1])).toBe(0);
    for (let i = 0; i < 200; i++) expect(assignArm('exp-2', `l${i}`, [0, 1, 0])).toBe(1);
  });

  it('follows the weights over 100,000 learners, independently per experiment', () => {
    const weights = [0.5, 0.3, 0.2];
    const counts = [0, 0, 0];
    let same = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const a = assignArm('checkout-copy', `learner-${i}`, weights);
      counts[a]++;
      if (a === assignArm('pricing-page', `learner-${i}`, weights)) same++;
    }
    // Binomial sd at n = 100,000 is at most 0.0016; 0.006 is over 3.5 sd.
    counts.forEach((c, i) => expect(Math.abs(c / n - weights[i])).toBeLessThan(0.006));
    // Independent experiments agree by chance: 0.5² + 0.3² + 0.2² = 0.38.
    expect(Math.abs(same / n - 0.38)).toBeLessThan(0.01);
  });

  it('rejects weights it cannot use', () => {
    expect(() => assignArm('e', 'l', [])).toThrow(RangeError);
    expect(() => assignArm('e', 'l', [0, 0])).toThrow(RangeError);
    expect(() => assignArm('e', 'l', [1, -1])).toThrow(RangeError);
    expect(() => assignArm('e', 'l', [1, Number.NaN])).toThrow(RangeError);
  });
});
