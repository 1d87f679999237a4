import { Random } from '../../src/ml/train/random';
import { fitSatisfaction, invert, MIN_RESIDUAL_DF, studentQuantile, type FitPoint } from '../../src/services/impact-model';

/**
 * `n` ratings 1..5 drawn as 1 + Binomial(4, x), mapped to 0..1: their mean
 * (an unbiased reading of satisfaction x) and its sampling variance, as the
 * service computes them from a count, a sum and a sum of squares.
 */
function observed(random: Random, x: number, n: number): { mean: number; variance: number } {
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let k = 0; k < 4; k++) r += random.next() < x ? 1 : 0;
    sum += r / 4;
    squares += (r / 4) ** 2;
  }
  const mean = sum / n;
  return { mean, variance: (squares / n - mean * mean) / (n - 1) };
}

describe('the satisfaction model', () => {
  it('fits the worked example of its documentation', () => {
    const xa = [0.5, 0.6, 0.55, 0.7, 0.65, 0.4, 0.45, 0.75];
    const xb = [0.3, 0.35, 0.5, 0.4, 0.6, 0.45, 0.55, 0.5];
    const noise = [0.01, -0.01, 0.02, 0, -0.02, 0.01, -0.01, 0];
    const fit = fitSatisfaction(xa.map((a, i) => ({ xs: [a, xb[i]], y: 0.5 * a + 0.3 * xb[i] + 0.1 + noise[i] })), 2);
    if (!fit.fitted) throw new Error(fit.reason);
    expect(fit.coefficients.map((c) => +c.estimate.toFixed(4))).toEqual([0.4704, 0.2551, 0.1375]);
    expect(fit.coefficients.map((c) => +c.standardError.toFixed(4))).toEqual([0.0425, 0.0513, 0.0325]);
    expect(+fit.rSquared!.toFixed(3)).toBe(0.97);
    expect([+fit.coefficients[0].low.toFixed(3), +fit.coefficients[0].high.toFixed(3)]).toEqual([0.361, 0.58]);
  });

  it('recovers exact coefficients from exact data', () => {
    const points: FitPoint[] = Array.from({ length: 10 }, (_, i) => {
      const xs = [0.3 + 0.05 * i, 0.8 - 0.03 * i * (i % 3)];
      return { xs, y: 0.2 * xs[0] + 0.6 * xs[1] + 0.05 };
    });
    const fit = fitSatisfaction(points, 2);
    if (!fit.fitted) throw new Error(fit.reason);
    expect(fit.coefficients.map((c) => c.estimate)).toEqual([0.2, 0.6, 0.05].map((v) => expect.closeTo(v, 10)));
    expect(fit.rSquared).toBeCloseTo(1, 10);
  });

  it('refuses a fit from too few buckets, and says why', () => {
    const three = [0.4, 0.5, 0.6].map((x) => ({ xs: [x, 1 - x], y: x }));
    const fit = fitSatisfaction(three, 2);
    expect(fit.fitted).toBe(false);
    expect(fit.fitted ? '' : fit.reason).toMatch(/3 usable buckets; a fit of 3 coefficients needs at least 8/);
    expect(fitSatisfaction(Array.from({ length: 3 + MIN_RESIDUAL_DF - 1 }, (_, i) => ({ xs: [i / 10, (i * i) / 100], y: i / 10 })), 2).fitted).toBe(false);
  });

  it('refuses members whose satisfaction moves in step, instead of inventing weights', () => {
    const points = Array.from({ length: 12 }, (_, i) => ({ xs: [0.3 + i / 50, 0.6 + i / 100], y: 0.5 + i / 40 }));
    const fit = fitSatisfaction(points, 2);
    expect(fit.fitted ? '' : fit.reason).toMatch(/cannot be told apart/);
    expect(invert([[1, 2], [2, 4]])).toBeNull();
  });

  it("computes Student's t quantiles", () => {
    // Exact values: 2.5706 (5), 2.4469 (6), 2.2281 (10), 2.0423 (30).
    expect(studentQuantile(0.975, 5)).toBeCloseTo(2.5706, 2);
    expect(studentQuantile(0.975, 6)).toBeCloseTo(2.4469, 3);
    expect(studentQuantile(0.975, 10)).toBeCloseTo(2.2281, 3);
    expect(studentQuantile(0.975, 30)).toBeCloseTo(2.0423, 3);
  });

  /**
   * 100 seeded simulations of planted α = 0.5, β = 0.3, γ = 0.1: 30 buckets,
   * each member's true satisfaction drawn per bucket, the joint offer's from
   * the model plus N(0, 0.02), and every figure read from 80 simulated
   * ratings (so the members' figures carry measurement error, as real ones
   * do). The 95% intervals must cover the planted values in at least 90 runs
   * of 100, for each coefficient.
   */
  const simulate = (corrected: boolean) => {
    const planted = [0.5, 0.3, 0.1];
    const covered = [0, 0, 0];
    for (let run = 0; run < 100; run++) {
      const random = new Random(1000 + run);
      const points: FitPoint[] = [];
      for (let b = 0; b < 30; b++) {
        const xa = 0.3 + 0.6 * random.next();
        const xb = 0.2 + 0.6 * random.next();
        const xab = Math.min(1, Math.max(0, planted[0] * xa + planted[1] * xb + planted[2] + 0.02 * random.normal()));
        const [a, b2, ab] = [observed(random, xa, 80), observed(random, xb, 80), observed(random, xab, 80)];
        points.push({ xs: [a.mean, b2.mean], xVariances: corrected ? [a.variance, b2.variance] : undefined, y: ab.mean });
      }
      const fit = fitSatisfaction(points, 2);
      if (!fit.fitted) throw new Error(fit.reason);
      fit.coefficients.forEach((c, i) => {
        if (c.low <= planted[i] && planted[i] <= c.high) covered[i]++;
      });
    }
    return covered;
  };

  it('covers planted coefficients with its 95% intervals in at least 90 of 100 simulations', () => {
    for (const c of simulate(true)) expect(c).toBeGreaterThanOrEqual(90);
    // The correction is what gets there: plain least squares on the same data attenuates the first weight.
    expect(Math.min(...simulate(false))).toBeLessThan(90);
  });
});
