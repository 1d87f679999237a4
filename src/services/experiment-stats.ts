import { createHash } from 'node:crypto';

/**
 * The statistics of Allied's A/B experiments, as pure functions: sticky
 * arm assignment and the comparison of two conversion rates.
 */

/**
 * The arm of `learnerId` in `experimentId`: sha256 of
 * `experimentId:learnerId`, its first 52 bits read as a number in [0, 1),
 * placed on the cumulative, normalised weights. Invariants: the same three
 * arguments always give the same arm (no state, no clock), so an
 * assignment is sticky without being stored; experiments are independent
 * of each other (the experiment id is in the hash); an arm of weight 0 is
 * never chosen; the share of learners in arm i tends to weights[i] / Σ weights.
 * Changing the weights moves only the learners whose point crosses a
 * boundary, so keep weights fixed while an experiment runs.
 *
 * @throws RangeError when weights is empty, has a negative or non-finite
 *   weight, or sums to 0.
 */
export function assignArm(experimentId: string, learnerId: string, weights: readonly number[]): number {
  if (weights.length === 0) throw new RangeError('an experiment needs at least one arm');
  let total = 0;
  for (const w of weights) {
    if (!Number.isFinite(w) || w < 0) throw new RangeError(`arm weights must be finite and non-negative, got ${w}`);
    total += w;
  }
  if (!(total > 0)) throw new RangeError('arm weights sum to 0');
  const u = unitHash(`${experimentId}:${learnerId}`);
  let cumulative = 0;
  let last = 0;
  for (let i = 0; i < weights.length; i++) {
    if (weights[i] === 0) continue;
    last = i;
    cumulative += weights[i] / total;
    if (u < cumulative) return i;
  }
  // Rounding can leave the cumulative sum a hair below 1.
  return last;
}

/** The first 52 bits of sha256(text) as a number in [0, 1). */
export function unitHash(text: string): number {
  const digest = createHash('sha256').update(text, 'utf8').digest();
  // 52 bits: 4 bytes, then 20 more bits, exactly representable in a double.
  const high = digest.readUInt32BE(0);
  const low = digest.readUInt32BE(4) >>> 12;
  return (high * 2 ** 20 + low) / 2 ** 52;
}

export interface ArmCounts {
  exposures: number;
  conversions: number;
}

export interface ProportionComparison {
  rateControl: number;
  rateTreatment: number;
  /** rateTreatment − rateControl. */
  absoluteLift: number;
  /** absoluteLift / rateControl; null when the control rate is 0 (the lift has no finite size). */
  relativeLift: number | null;
  /** Confidence interval of the absolute difference (treatment − control), within [−1, 1]. */
  ci: [number, number];
  /** Two-sided p-value of the pooled two-proportion z-test. */
  pValue: number;
  /** pValue < 1 − confidence. */
  significant: boolean;
  method: string;
}

export const COMPARISON_METHOD = 'two-proportion z-test (pooled SE); Newcombe hybrid score interval (Wilson, method 10)';

/**
 * Compares the conversion rates of a control and a treatment arm.
 *
 * The p-value is the standard two-sided two-proportion z-test with the
 * pooled standard error, z = (p̂t − p̂c) / √(p̂(1 − p̂)(1/nc + 1/nt)) with
 * p̂ the pooled rate. The interval of the difference is Newcombe's hybrid
 * score interval (Newcombe 1998, method 10): with [lc, uc] and [lt, ut] the
 * Wilson score intervals of each rate,
 *   lo = d − √((p̂t − lt)² + (uc − p̂c)²),  hi = d + √((ut − p̂t)² + (p̂c − lc)²).
 * Unlike the Wald interval it keeps its coverage near rates of 0 or 1 and
 * at small counts, and never collapses to a point.
 *
 * Edge cases, never NaN: an arm with no exposures has rate 0 and the
 * Wilson interval [0, 1]; when the pooled standard error is 0 (no
 * exposures, or every exposure converted or none did in both arms) the
 * difference is 0 and the p-value is 1. The z-test and the interval are
 * different constructions, so at the margin `significant` (from the
 * p-value) and "the interval excludes 0" can disagree.
 *
 * @throws RangeError when a count is negative or not an integer, when
 *   conversions exceed exposures, or when confidence is not in (0, 1).
 */
export function compareProportions(control: ArmCounts, treatment: ArmCounts, confidence = 0.95): ProportionComparison {
  checkCounts('control', control);
  checkCounts('treatment', treatment);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const rate = (a: ArmCounts) => (a.exposures > 0 ? a.conversions / a.exposures : 0);
  const pc = rate(control);
  const pt = rate(treatment);
  const d = pt - pc;

  const [lc, uc] = wilson(control.conversions, control.exposures, z);
  const [lt, ut] = wilson(treatment.conversions, treatment.exposures, z);
  const lo = d - Math.sqrt((pt - lt) ** 2 + (uc - pc) ** 2);
  const hi = d + Math.sqrt((ut - pt) ** 2 + (pc - lc) ** 2);

  let pValue = 1;
  if (control.exposures > 0 && treatment.exposures > 0) {
    const pooled = (control.conversions + treatment.conversions) / (control.exposures + treatment.exposures);
    const se = Math.sqrt(pooled * (1 - pooled) * (1 / control.exposures + 1 / treatment.exposures));
    if (se > 0) pValue = Math.min(1, erfc(Math.abs(d) / se / Math.SQRT2));
  }
  return {
    rateControl: pc,
    rateTreatment: pt,
    absoluteLift: d,
    relativeLift: pc > 0 ? d / pc : null,
    ci: [Math.max(-1, lo), Math.min(1, hi)],
    pValue,
    significant: pValue < 1 - confidence,
    method: COMPARISON_METHOD,
  };
}

function checkCounts(arm: string, a: ArmCounts): void {
  if (!Number.isInteger(a.exposures) || a.exposures < 0) throw new RangeError(`${arm} exposures must be a non-negative integer, got ${a.exposures}`);
  if (!Number.isInteger(a.conversions) || a.conversions < 0) throw new RangeError(`${arm} conversions must be a non-negative integer, got ${a.conversions}`);
  if (a.conversions > a.exposures) throw new RangeError(`${arm} has ${a.conversions} conversions for ${a.exposures} exposures`);
}

/** Wilson's score interval of x successes in n trials; [0, 1] when n = 0. */
export function wilson(x: number, n: number, z: number): [number, number] {
  if (n === 0) return [0, 1];
  const p = x / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At x = 0 or x = n the bound is exactly 0 or 1; rounding must not push it past.
  return [x === 0 ? 0 : Math.max(0, centre - half), x === n ? 1 : Math.min(1, centre + half)];
}

/**
 * The complementary error function, W. J. Cody's rational Chebyshev
 * approximations (1969), relative error below 1e-15 over the range that
 * matters here; erfc(x) for x ≥ 0, and 2 − erfc(−x) below.
 */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 0.5) return 1 - erfSmall(x);
  if (x < 4) {
    const p = [3.004592610201616e2, 4.519189537118729e2, 3.393208167343437e2, 1.529892850469404e2, 4.316222722205674e1, 7.211758250883094, 5.641955174789740e-1, -1.368648573827167e-7];
    const q = [3.004592609569833e2, 7.909509253278980e2, 9.313540948506096e2, 6.389802644656312e2, 2.775854447439876e2, 7.700015293522947e1, 1.278272731962942e1, 1];
    return Math.exp(-x * x) * (horner(p, x) / horner(q, x));
  }
  if (x > 27) return 0;
  const p = [-2.99610707703542174e-3, -4.94730910623250734e-2, -2.26956593539686930e-1, -2.78661308609647788e-1, -2.23192459734184686e-2];
  const q = [1.06209230528467918e-2, 1.91308926107829841e-1, 1.05167510706793207, 1.98733201817135256, 1];
  const y = 1 / (x * x);
  return (Math.exp(-x * x) / x) * (1 / Math.sqrt(Math.PI) + y * (horner(p, y) / horner(q, y)));
}

function erfSmall(x: number): number {
  const p = [3.20937758913846947e3, 3.77485237685302021e2, 1.13864154151050156e2, 3.16112374387056560, 1.85777706184603153e-1];
  const q = [2.84423683343917062e3, 1.28261652607737228e3, 2.44024637934444173e2, 2.36012909523441209e1, 1];
  const y = x * x;
  return (x * horner(p, y)) / horner(q, y);
}

/** Σ c[i]·x^i, the coefficients lowest power first. */
function horner(c: readonly number[], x: number): number {
  let s = 0;
  for (let i = c.length - 1; i >= 0; i--) s = s * x + c[i];
  return s;
}

/** The standard normal CDF. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/**
 * The standard normal quantile: Acklam's rational approximation (relative
 * error 1.15e-9) polished by one Halley step on normalCdf.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`quantile of ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}
