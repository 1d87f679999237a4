import { Random } from '../../src/ml/train/random';
import { expectedOutcome, fitResponse, MAX_K, MIN_WEEKS, splitBudget, splitByReturn } from '../../src/services/budget-model';

/** A Poisson draw (Knuth's method; the means here are small). */
function poisson(random: Random, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random.next();
  while (p > limit) {
    k++;
    p *= random.next();
  }
  return k;
}

/** The best split of `budget` in steps of `step` over three curves, by trying every one. */
function bruteForce(curves: { a: number; k: number }[], budget: number, step: number): number {
  let best = 0;
  for (let s0 = 0; s0 <= budget; s0 += step) {
    for (let s1 = 0; s0 + s1 <= budget; s1 += step) {
      const s = [s0, s1, budget - s0 - s1];
      best = Math.max(best, curves.reduce((sum, c, i) => sum + c.a * s[i] ** c.k, 0));
    }
  }
  return best;
}

const outcome = (curves: { a: number; k: number }[], split: number[]) => curves.reduce((sum, c, i) => sum + c.a * split[i] ** c.k, 0);

describe('budget allocation', () => {
  it('splits the worked example of its documentation', () => {
    const curves = [{ a: 0.5, k: 0.5 }, { a: 0.05, k: 0.7 }];
    const split = splitBudget(curves, 10_000);
    expect(split.map(Math.round)).toEqual([6650, 3350]);
    expect(+outcome(curves, split).toFixed(1)).toBe(55.4);
    expect(+outcome(curves, [5000, 5000]).toFixed(1)).toBe(54.8);
  });

  it('matches the brute-force optimum on exact curves, and spends exactly the budget', () => {
    const curves = [{ a: 0.8, k: 0.4 }, { a: 0.05, k: 0.8 }, { a: 0.3, k: 0.55 }];
    const split = splitBudget(curves, 20_000);
    expect(split.reduce((s, v) => s + v, 0)).toBeCloseTo(20_000, 6);
    expect(outcome(curves, split)).toBeGreaterThanOrEqual(bruteForce(curves, 20_000, 100) - 1e-9);
  });

  it('fits planted curves from noisy weeks, and reaches within 10% of the planted optimum in every one of 50 simulations', () => {
    let worst = 1;
    let worstEven = 1;
    for (let run = 0; run < 50; run++) {
      const random = new Random(300 + run);
      // Scales 0.02..1 (log-uniform) and exponents 0.3..0.7: campaigns that differ as real ones do.
      const curve = () => ({ a: 0.02 * 50 ** random.next(), k: 0.3 + 0.4 * random.next() });
      const planted = [curve(), curve(), curve()];
      const fitted = planted.map((c) => {
        const weeks = Array.from({ length: 10 }, () => {
          const spend = 500 + random.int(9500);
          return { spend, outcome: poisson(random, c.a * spend ** c.k) };
        });
        const fit = fitResponse(weeks);
        if ('reason' in fit) throw new Error(fit.reason);
        return fit;
      });
      const budget = 15_000;
      const best = bruteForce(planted, budget, 250);
      worst = Math.min(worst, outcome(planted, splitBudget(fitted, budget)) / best);
      worstEven = Math.min(worstEven, outcome(planted, [budget / 3, budget / 3, budget / 3]) / best);
    }
    expect(worst).toBeGreaterThan(0.9);
    // The target means something here: an even split falls short of it.
    expect(worstEven).toBeLessThan(0.9);
  });

  it('recovers a planted exponent, with an interval around the expected outcome', () => {
    const random = new Random(5);
    const weeks = Array.from({ length: 30 }, () => {
      const spend = 200 + random.int(20_000);
      return { spend, outcome: poisson(random, 0.4 * spend ** 0.5) };
    });
    const fit = fitResponse(weeks);
    if ('reason' in fit) throw new Error(fit.reason);
    expect(fit.k).toBeGreaterThan(0.4);
    expect(fit.k).toBeLessThan(0.6);
    const at = expectedOutcome(fit, 5000);
    expect(at.low).toBeLessThan(0.4 * 5000 ** 0.5);
    expect(at.high).toBeGreaterThan(0.4 * 5000 ** 0.5);
  });

  it('says why it cannot fit, and caps curves without diminishing returns', () => {
    expect(fitResponse([{ spend: 100, outcome: 3 }])).toEqual({ reason: `1 week with spend; a response curve needs at least ${MIN_WEEKS}.` });
    expect(fitResponse(Array.from({ length: 5 }, () => ({ spend: 100, outcome: 3 })))).toEqual({ reason: expect.stringMatching(/same amount/) });
    const linear = fitResponse([1000, 2000, 4000, 8000].map((spend) => ({ spend, outcome: spend / 50 })));
    if ('reason' in linear) throw new Error(linear.reason);
    expect(linear.k).toBe(MAX_K);
    expect(linear.capped).toMatch(/no diminishing returns/);
  });

  it('falls back to shares proportional to the return on spend', () => {
    expect(splitByReturn([0.02, 0.01, 0], 900)).toEqual([600, 300, 0]);
    expect(splitByReturn([0, 0], 100)).toEqual([50, 50]);
  });
});
