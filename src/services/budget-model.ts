import { invert } from './impact-model';

/**
 * Budget allocation under diminishing returns.
 *
 * Response curve: a campaign's expected outcome in a week (conversions, or
 * revenue in minor units) from what it spent that week, μ(s) = a·s^k with
 * 0 < k < 1: doubling the spend multiplies the outcome by 2^k < 2. It is
 * fitted on the campaign's own weeks with spend, as a log-link
 * quasi-Poisson regression, ln μ = ln a + k·ln s (iteratively reweighted
 * least squares; weeks with no outcome count, unlike a log-log fit), with
 * the dispersion estimated from the Pearson residuals. At least MIN_WEEKS
 * weeks with spend, of at least two different amounts, are needed.
 *
 * Split: maximise Σ a_i·s_i^k_i subject to Σ s_i = B (the weekly budget).
 * At the optimum every campaign's marginal return a_i·k_i·s_i^(k_i − 1)
 * equals one λ, so s_i(λ) = (a_i·k_i / λ)^(1 / (1 − k_i)); Σ s_i(λ) falls
 * as λ rises, and λ is found by bisection. A fitted k ≥ 1 (no diminishing
 * returns seen) is capped at MAX_K, k ≤ 0 at MIN_K, with a warning: the
 * curve would otherwise put everything on one campaign, or nothing.
 *
 * Worked example: curves 0.5·s^0.5 and 0.05·s^0.7 and B = 10,000: λ ≈
 * 0.00307, s = 6,650 and 3,350, outcomes 40.8 and 14.7 a week (55.4); an
 * even split gives 35.4 + 19.4 = 54.8. Under diminishing returns the best
 * split is often near an even one; what it avoids is the large loss of
 * putting the money where returns have already flattened.
 */
export const MIN_WEEKS = 4;
export const MIN_K = 0.05;
export const MAX_K = 0.95;

export interface Week {
  spend: number;
  outcome: number;
}

export interface ResponseCurve {
  a: number;
  k: number;
  /** The covariance of (ln a, k), dispersion included. */
  covariance: [[number, number], [number, number]];
  weeks: number;
  /** Said when k was capped. */
  capped: string | null;
}

/** The curve fitted on `weeks`, or why it cannot be. */
export function fitResponse(weeks: readonly Week[]): ResponseCurve | { reason: string } {
  const used = weeks.filter((w) => w.spend > 0);
  if (used.length < MIN_WEEKS) return { reason: `${used.length} week${used.length === 1 ? '' : 's'} with spend; a response curve needs at least ${MIN_WEEKS}.` };
  if (new Set(used.map((w) => w.spend)).size < 2) return { reason: 'The same amount was spent every week: how the outcome responds to spend cannot be seen.' };
  const total = used.reduce((s, w) => s + w.outcome, 0);
  if (total <= 0) return { reason: 'No outcome was recorded in the weeks with spend.' };
  const xs = used.map((w) => Math.log(w.spend));
  const ys = used.map((w) => w.outcome);
  // Start from a flat curve through the mean, then Newton (IRLS) steps on the Poisson log-likelihood.
  let beta = [Math.log(total / used.length), 0];
  let info: number[][] | null = null;
  for (let step = 0; step < 100; step++) {
    const mu = xs.map((x) => Math.exp(beta[0] + beta[1] * x));
    const score = [ys.reduce((s, y, i) => s + (y - mu[i]), 0), ys.reduce((s, y, i) => s + (y - mu[i]) * xs[i], 0)];
    const fisher = [
      [mu.reduce((s, m) => s + m, 0), mu.reduce((s, m, i) => s + m * xs[i], 0)],
      [mu.reduce((s, m, i) => s + m * xs[i], 0), mu.reduce((s, m, i) => s + m * xs[i] * xs[i], 0)],
    ];
    info = invert(fisher);
    if (!info) return { reason: 'The weeks do not determine a curve.' };
    const delta = [info[0][0] * score[0] + info[0][1] * score[1], info[1][0] * score[0] + info[1][1] * score[1]];
    beta = [beta[0] + delta[0], beta[1] + delta[1]];
    if (Math.abs(delta[0]) + Math.abs(delta[1]) < 1e-10) break;
  }
  const mu = xs.map((x) => Math.exp(beta[0] + beta[1] * x));
  const pearson = ys.reduce((s, y, i) => s + (y - mu[i]) ** 2 / mu[i], 0);
  const dispersion = used.length > 2 ? Math.max(1, pearson / (used.length - 2)) : 1;
  const cov = info!.map((row) => row.map((v) => v * dispersion)) as [[number, number], [number, number]];
  let k = beta[1];
  let capped: string | null = null;
  if (k > MAX_K) {
    capped = `its outcome grew with spend at exponent ${k.toFixed(2)} (no diminishing returns seen); taken as ${MAX_K}`;
    k = MAX_K;
  } else if (k < MIN_K) {
    capped = `its outcome did not grow with spend (exponent ${k.toFixed(2)}); taken as ${MIN_K}`;
    k = MIN_K;
  }
  // With k capped, a is refitted so the curve still goes through the weeks' outcomes on average.
  const a = capped ? total / used.reduce((s, w) => s + w.spend ** k, 0) : Math.exp(beta[0]);
  return { a, k, covariance: cov, weeks: used.length, capped };
}

/** The expected outcome of spending `s` in a week, with its 95% interval (delta method on ln μ). */
export function expectedOutcome(curve: ResponseCurve, s: number): { expected: number; low: number; high: number } {
  if (s <= 0) return { expected: 0, low: 0, high: 0 };
  const expected = curve.a * s ** curve.k;
  const x = Math.log(s);
  const [[v00, v01], [, v11]] = curve.covariance;
  const sd = Math.sqrt(Math.max(0, v00 + 2 * x * v01 + x * x * v11));
  return { expected, low: expected * Math.exp(-1.96 * sd), high: expected * Math.exp(1.96 * sd) };
}

/** The weekly budget split that maximises the curves' total outcome (see above). */
export function splitBudget(curves: readonly Pick<ResponseCurve, 'a' | 'k'>[], budget: number): number[] {
  if (curves.length === 0 || budget <= 0) return curves.map(() => 0);
  const spendAt = (lambda: number) => curves.map((c) => (c.a > 0 ? ((c.a * c.k) / lambda) ** (1 / (1 - c.k)) : 0));
  const sum = (lambda: number) => spendAt(lambda).reduce((s, v) => s + v, 0);
  // Bisection on ln λ, from a bracket wide enough for any curve.
  let low = -200;
  let high = 200;
  for (let i = 0; i < 200; i++) {
    const mid = (low + high) / 2;
    if (sum(Math.exp(mid)) > budget) low = mid;
    else high = mid;
  }
  const spend = spendAt(Math.exp((low + high) / 2));
  const scale = budget / spend.reduce((s, v) => s + v, 0);
  return spend.map((v) => v * scale);
}

/** Proportional to return on spend: the fallback when some campaign has too short a history. */
export function splitByReturn(rates: readonly number[], budget: number): number[] {
  const positive = rates.map((r) => Math.max(0, r));
  const total = positive.reduce((s, r) => s + r, 0);
  return total > 0 ? positive.map((r) => (budget * r) / total) : rates.map(() => budget / rates.length);
}
