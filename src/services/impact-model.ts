import { normalQuantile } from './experiment-stats';

/**
 * The satisfaction model of a joint offer, fitted by ordinary least squares.
 *
 * The alliance playbook writes X_AB = α·X_A + β·X_B + γ·ρ: X_A, X_B the
 * members' own learners' satisfaction, X_AB the joint offer's, ρ the uplift.
 * Per bucket we observe X_AB and every X_m; ρ is reported per bucket as
 * X_AB − (the members' mean weighted by their ratings). Fitting γ on that ρ
 * would be circular (ρ is computed from X_AB itself: the "fit" is an
 * identity with R² = 1 whatever the data), so the fitted model takes the
 * uplift as what is left once the members' satisfaction is accounted for,
 * a constant: X_AB = Σ β_m·X_m + γ, i.e. ρ ≡ 1 and γ the uplift in
 * satisfaction units (0..1). One coefficient per member (α for the first,
 * β for the second, in brand id order), then γ.
 *
 * Estimator: least squares corrected for the members' measurement error.
 * Each X_m is a mean of finitely many ratings, so it is the true
 * satisfaction plus noise of a variance we know (the ratings' variance ÷
 * their number); plain least squares on noisy inputs shrinks their weights
 * towards 0 (attenuation: by 3% in the simulated test, enough to push the
 * first weight's coverage under 90%). So, with a row per usable bucket (the
 * members' X_m and 1) and D the diagonal of the summed sampling variances
 * (0 for γ): b = (XᵀX − D)⁻¹Xᵀy, with standard errors from the sandwich
 * of its estimating equations (the noise in X makes the textbook formula
 * too narrow); 95% intervals b ± t(0.975, n − p)·se; R² = 1 − Σe² /
 * Σ(y − ȳ)². Without variances (D = 0) this is ordinary least squares with
 * its textbook standard errors √(s²·diag((XᵀX)⁻¹)), s² = Σe² / (n − p).
 *
 * Too few to fit: a bucket is usable when X_AB and every X_m rest on at
 * least MIN_RATINGS ratings (a satisfaction from fewer has a standard error
 * above 0.1 on the 0..1 scale, as large as the effects looked for), and a
 * fit needs at least p + MIN_RESIDUAL_DF usable buckets, so that the
 * intervals rest on 5 residual degrees of freedom (t = 2.57; with one it
 * would be 12.7, and with p points there is no error estimate at all).
 * With two members that is 8 buckets: never a fit from three points.
 *
 * Worked example (two members, the 8 buckets of the unit test): X_A =
 * 0.50, 0.60, 0.55, 0.70, 0.65, 0.40, 0.45, 0.75, X_B = 0.30, 0.35, 0.50,
 * 0.40, 0.60, 0.45, 0.55, 0.50, and X_AB = 0.5·X_A + 0.3·X_B + 0.1 plus
 * +0.01, −0.01, +0.02, 0, −0.02, +0.01, −0.01, 0 give α = 0.4704, β =
 * 0.2551, γ = 0.1375, standard errors 0.0425, 0.0513, 0.0325 (s² from 5
 * residual degrees of freedom), R² = 0.970, and α's 95% interval
 * 0.4704 ± 2.570·0.0425 = [0.361, 0.580]; each interval holds the value
 * planted (0.5, 0.3, 0.1).
 */
export const MIN_RATINGS = 5;
export const MIN_RESIDUAL_DF = 5;

export interface FitPoint {
  /** The members' satisfaction, in member order. */
  xs: readonly number[];
  /** The sampling variance of each of `xs` (the variance of its ratings on the 0..1 scale ÷ their number); none: taken as exact. */
  xVariances?: readonly number[];
  /** The joint offer's. */
  y: number;
}

export interface FitCoefficient {
  estimate: number;
  standardError: number;
  low: number;
  high: number;
}

export type SatisfactionFit =
  | { fitted: true; coefficients: FitCoefficient[]; rSquared: number | null; points: number; residualDf: number }
  | { fitted: false; reason: string; points: number };

/** The fit described above; `points` already limited to the usable buckets. */
export function fitSatisfaction(points: readonly FitPoint[], members: number): SatisfactionFit {
  const p = members + 1;
  const n = points.length;
  if (members < 1) return { fitted: false, reason: 'The alliance has no ACTIVE member to compare with.', points: n };
  if (n < p + MIN_RESIDUAL_DF) {
    return {
      fitted: false,
      reason: `${n} usable bucket${n === 1 ? '' : 's'}; a fit of ${p} coefficients needs at least ${p + MIN_RESIDUAL_DF} (each with at least ${MIN_RATINGS} ratings of the joint offer and of every member's own), so that its intervals rest on ${MIN_RESIDUAL_DF} residual degrees of freedom.`,
      points: n,
    };
  }
  const rows = points.map((pt) => [...pt.xs, 1]);
  const ys = points.map((pt) => pt.y);
  const noise = Array.from({ length: p }, (_, i) => (i < members ? points.reduce((s, pt) => s + (pt.xVariances?.[i] ?? 0), 0) : 0));
  const xtx = Array.from({ length: p }, (_, i) =>
    Array.from({ length: p }, (_, j) => rows.reduce((s, r) => s + r[i] * r[j], 0) - (i === j ? noise[i] : 0)),
  );
  const inverse = invert(xtx);
  if (inverse && inverse.some((row, i) => !(row[i] > 0))) {
    return {
      fitted: false,
      reason: "The members' satisfaction varies less across the buckets than the noise of reading it from their ratings; more ratings per bucket, or longer buckets, are needed.",
      points: n,
    };
  }
  if (!inverse) {
    return {
      fitted: false,
      reason: "The members' satisfaction does not vary independently across the buckets (one is constant, or moves in step with another), so their weights cannot be told apart.",
      points: n,
    };
  }
  const xty = Array.from({ length: p }, (_, i) => rows.reduce((s, r, k) => s + r[i] * ys[k], 0));
  const b = inverse.map((row) => row.reduce((s, v, j) => s + v * xty[j], 0));
  const residuals = rows.map((r, k) => ys[k] - r.reduce((s, v, j) => s + v * b[j], 0));
  const sse = residuals.reduce((s, e) => s + e * e, 0);
  const df = n - p;
  const s2 = sse / df;
  const mean = ys.reduce((s, y) => s + y, 0) / n;
  const sst = ys.reduce((s, y) => s + (y - mean) ** 2, 0);
  const t = studentQuantile(0.975, df);
  const corrected = noise.some((v) => v > 0);
  const covariance = corrected ? sandwich(inverse, rows, residuals, points, b, members) : inverse.map((row) => row.map((v) => s2 * v));
  return {
    fitted: true,
    coefficients: b.map((estimate, i) => {
      const standardError = Math.sqrt(Math.max(0, covariance[i][i]));
      return { estimate, standardError, low: estimate - t * standardError, high: estimate + t * standardError };
    }),
    rSquared: sst > 0 ? 1 - sse / sst : null,
    points: n,
    residualDf: df,
  };
}

/**
 * The corrected estimator's covariance, A⁻¹·M·A⁻¹ with A = XᵀX − D and M the
 * sum over buckets of ψψᵀ, ψ = x·e/(1 − h) + D_b·b (the bucket's estimating
 * equation, its residual e inflated by its leverage h as in HC3). Over 1,000
 * simulations of the unit test's design the estimates' spread was 0.0417,
 * 0.0414, 0.0335 and the mean standard errors 0.0439, 0.0437, 0.0349
 * (HC1's were 0.0400, 0.0398, 0.0319: too narrow).
 */
function sandwich(
  inverse: readonly number[][],
  rows: readonly number[][],
  residuals: readonly number[],
  points: readonly FitPoint[],
  b: readonly number[],
  members: number,
): number[][] {
  const p = b.length;
  const meat = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  rows.forEach((r, k) => {
    // The residual inflated by its leverage (HC3): in a few dozen buckets the plain residuals understate the noise.
    const leverage = r.reduce((s, v, i) => s + v * inverse[i].reduce((t, w, j) => t + w * r[j], 0), 0);
    const e = residuals[k] / Math.max(1e-6, 1 - leverage);
    const psi = r.map((v, i) => v * e + (i < members ? (points[k].xVariances?.[i] ?? 0) * b[i] : 0));
    for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) meat[i][j] += psi[i] * psi[j];
  });
  const left = inverse.map((row) => Array.from({ length: p }, (_, j) => row.reduce((s, v, k) => s + v * meat[k][j], 0)));
  return left.map((row) => Array.from({ length: p }, (_, j) => row.reduce((s, v, k) => s + v * inverse[k][j], 0)));
}

/** Gauss–Jordan with partial pivoting; null when the matrix is (numerically) singular. */
export function invert(matrix: readonly (readonly number[])[]): number[][] | null {
  const n = matrix.length;
  const scale = Math.max(...matrix.map((r) => Math.max(...r.map(Math.abs))), 0);
  if (scale === 0) return null;
  const a = matrix.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    if (Math.abs(a[pivot][col]) <= 1e-10 * scale) return null;
    [a[col], a[pivot]] = [a[pivot], a[col]];
    const div = a[col][col];
    for (let j = 0; j < 2 * n; j++) a[col][j] /= div;
    for (let r = 0; r < n; r++) {
      if (r === col || a[r][col] === 0) continue;
      const f = a[r][col];
      for (let j = 0; j < 2 * n; j++) a[r][j] -= f * a[col][j];
    }
  }
  return a.map((row) => row.slice(n));
}

/**
 * Student's t quantile by the Cornish–Fisher expansion around the normal
 * quantile (Abramowitz & Stegun 26.7.5): at 0.975, 2.5703 for 5 degrees
 * of freedom (exact 2.5706), 2.4468 for 6 (2.4469), closer above.
 */
export function studentQuantile(p: number, df: number): number {
  const z = normalQuantile(p);
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  const z9 = z ** 9;
  return (
    z +
    (z3 + z) / (4 * df) +
    (5 * z5 + 16 * z3 + 3 * z) / (96 * df ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3) +
    (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * df ** 4)
  );
}

/** The model as AllianceImpact.fit states it. */
export const SATISFACTION_MODEL =
  "X_AB = α·X_A + β·X_B (+ one weight per further member) + γ, γ the uplift: least squares over the usable buckets, corrected for the noise in the members' figures, 95% intervals from Student's t";

/** The coefficients' names: alpha, beta, beta3, beta4…, then gamma. */
export function coefficientName(index: number, members: number): string {
  if (index === members) return 'gamma';
  return index === 0 ? 'alpha' : index === 1 ? 'beta' : `beta${index + 1}`;
}
