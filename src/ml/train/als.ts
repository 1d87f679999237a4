import type { FactorModel } from '../onnx/recommender';
import { byItem, learnerOffsets, type Interactions } from './dataset';
import type { ProgressCallback } from './progress';
import { Random } from './random';

/**
 * Implicit-feedback matrix factorisation by alternating least squares.
 *
 * Every (learner, item) cell has a preference p (1 where the pair was
 * observed, 0 elsewhere) and a confidence c = 1 + alpha·w (1 for unobserved
 * cells). The objective
 *
 *   Σ_{u,i} c_ui (p_ui − x_u·y_i)² + λ (Σ_u |x_u|² + Σ_i |y_i|²)
 *
 * is minimised by solving each learner row exactly with the items fixed,
 * then each item row with the learners fixed. A row's system is
 * (YᵀY + Σ_{i∈u} (c_ui − 1) y_i y_iᵀ + λI) x_u = Σ_{i∈u} c_ui y_i: the dense
 * part YᵀY is computed once per half-step, so a row costs O(n_u·f² + f³)
 * and unobserved cells cost nothing. Each system is symmetric positive
 * definite and is solved by Cholesky.
 */

export interface AlsOptions {
  factors?: number;
  iterations?: number;
  /** λ above. */
  regularization?: number;
  /** Confidence per unit of weight. */
  alpha?: number;
  seed?: number;
}

/**
 * Defaults tuned on the synthetic benchmark (bench/ml/offline.ts, on a
 * different seed than the one reported). λ and α matter most: the best
 * region has λ/α around 25–35; much more λ shrinks the factors to a
 * popularity ranking, much less overfits. Ten iterations are as good as
 * 25. Fewer factors did a little better on the benchmark's 12 topics, but
 * 32 leaves room for brands with more structure.
 */
export const ALS_DEFAULTS: Required<AlsOptions> = {
  factors: 32,
  iterations: 10,
  regularization: 70,
  alpha: 3,
  seed: 1,
};

/**
 * Scale of the log-popularity item bias added to ALS models. ALS scores
 * already carry popularity through the factors, and a real bias does not
 * help (held-out NDCG@10 on the benchmark's tuning seed: scale 0 → 0.1417,
 * 1e-4 → 0.1419, 0.01 → 0.1429, 0.03 → 0.1417, 0.1 → 0.1341), so it is kept
 * tiny: it breaks ties, and a learner whose factors are zero (no positive
 * signal) gets a popularity ranking instead of an arbitrary one.
 */
export const ALS_POPULARITY_BIAS = 1e-4;

export function trainAls(data: Interactions, options: AlsOptions = {}, onProgress?: ProgressCallback): FactorModel {
  const o = { ...ALS_DEFAULTS, ...options };
  const f = o.factors;
  if (!(Number.isInteger(f) && f >= 1)) throw new RangeError(`factors must be a positive integer, got ${f}`);
  if (!(Number.isInteger(o.iterations) && o.iterations >= 1)) throw new RangeError(`iterations must be a positive integer, got ${o.iterations}`);
  if (!(o.regularization > 0)) throw new RangeError(`regularization must be positive, got ${o.regularization}`);
  if (!(o.alpha >= 0)) throw new RangeError(`alpha must be at least 0, got ${o.alpha}`);
  const { learners, items } = data;
  const rows = { offsets: learnerOffsets(data), other: data.item, weight: data.weight };
  const cols = (() => {
    const t = byItem(data);
    return { offsets: t.offsets, other: t.learner, weight: t.weight };
  })();

  const random = new Random(o.seed);
  const X = new Float64Array(learners * f);
  const Y = new Float64Array(items * f);
  const scale = 0.1 / Math.sqrt(f);
  for (let k = 0; k < Y.length; k++) Y[k] = random.normal() * scale;

  const solver = new RowSolver(f);
  for (let it = 1; it <= o.iterations; it++) {
    solveSide(X, learners, Y, items, rows, o.alpha, o.regularization, solver);
    solveSide(Y, items, X, learners, cols, o.alpha, o.regularization, solver);
    onProgress?.({
      fraction: it / o.iterations,
      epoch: it,
      loss: objective(X, Y, learners, items, f, rows, o.alpha, o.regularization) / Math.max(1, data.learner.length),
      message: `ALS iteration ${it}/${o.iterations}`,
    });
  }

  const itemBias = new Float32Array(items);
  for (let i = 0; i < items; i++) {
    let popularity = 0;
    for (let p = cols.offsets[i]; p < cols.offsets[i + 1]; p++) popularity += cols.weight[p];
    itemBias[i] = ALS_POPULARITY_BIAS * Math.log1p(popularity);
  }
  return {
    learners,
    items,
    factors: f,
    learnerFactors: Float32Array.from(X),
    itemFactors: Float32Array.from(Y),
    itemBias,
  };
}

interface Side {
  offsets: Int32Array;
  other: Int32Array;
  weight: Float32Array;
}

/** Solves every row of `target` (n rows) against the fixed `fixed` (m rows). */
function solveSide(target: Float64Array, n: number, fixed: Float64Array, m: number, side: Side, alpha: number, lambda: number, solver: RowSolver): void {
  const f = solver.f;
  const gram = new Float64Array(f * f);
  for (let r = 0; r < m; r++) {
    const o = r * f;
    for (let a = 0; a < f; a++) {
      const ya = fixed[o + a];
      if (ya === 0) continue;
      const ga = a * f;
      for (let b = 0; b <= a; b++) gram[ga + b] += ya * fixed[o + b];
    }
  }
  for (let a = 0; a < f; a++) gram[a * f + a] += lambda;
  for (let r = 0; r < n; r++) {
    const start = side.offsets[r];
    const end = side.offsets[r + 1];
    if (start === end) {
      target.fill(0, r * f, r * f + f);
      continue;
    }
    solver.solve(gram, fixed, side.other, side.weight, start, end, alpha, target, r * f);
  }
}

/** The f×f system of one row, solved in place by Cholesky (lower triangle, row-major). */
class RowSolver {
  private readonly A: Float64Array;
  private readonly b: Float64Array;

  constructor(readonly f: number) {
    this.A = new Float64Array(f * f);
    this.b = new Float64Array(f);
  }

  solve(gram: Float64Array, fixed: Float64Array, other: Int32Array, weight: Float32Array, start: number, end: number, alpha: number, out: Float64Array, at: number): void {
    const { f, A, b } = this;
    A.set(gram);
    b.fill(0);
    for (let p = start; p < end; p++) {
      const o = other[p] * f;
      const extra = alpha * weight[p];
      const c = 1 + extra;
      for (let a = 0; a < f; a++) {
        const ya = fixed[o + a];
        b[a] += c * ya;
        const yae = ya * extra;
        const ga = a * f;
        for (let k = 0; k <= a; k++) A[ga + k] += yae * fixed[o + k];
      }
    }
    // Cholesky: A = L Lᵀ, L overwriting the lower triangle.
    for (let j = 0; j < f; j++) {
      const rj = j * f;
      let d = A[rj + j];
      for (let k = 0; k < j; k++) d -= A[rj + k] * A[rj + k];
      // λ > 0 keeps the system positive definite; guard against rounding anyway.
      const ljj = Math.sqrt(d > 1e-12 ? d : 1e-12);
      A[rj + j] = ljj;
      for (let i = j + 1; i < f; i++) {
        const ri = i * f;
        let s = A[ri + j];
        for (let k = 0; k < j; k++) s -= A[ri + k] * A[rj + k];
        A[ri + j] = s / ljj;
      }
    }
    // L z = b, then Lᵀ x = z.
    for (let i = 0; i < f; i++) {
      const ri = i * f;
      let s = b[i];
      for (let k = 0; k < i; k++) s -= A[ri + k] * b[k];
      b[i] = s / A[ri + i];
    }
    for (let i = f - 1; i >= 0; i--) {
      let s = b[i];
      for (let k = i + 1; k < f; k++) s -= A[k * f + i] * out[at + k];
      out[at + i] = s / A[i * f + i];
    }
  }
}

/**
 * The objective above, in O(nnz·f + learners·f²): over all cells,
 * Σ c (p − s)² = Σ_all s² + Σ_obs [c (1 − s)² − s²], and Σ_all s² = Σ_u x_uᵀ (YᵀY) x_u.
 */
function objective(X: Float64Array, Y: Float64Array, learners: number, items: number, f: number, rows: Side, alpha: number, lambda: number): number {
  const gram = new Float64Array(f * f);
  for (let r = 0; r < items; r++) {
    const o = r * f;
    for (let a = 0; a < f; a++) for (let b = 0; b < f; b++) gram[a * f + b] += Y[o + a] * Y[o + b];
  }
  let total = 0;
  let reg = 0;
  for (let u = 0; u < learners; u++) {
    const o = u * f;
    for (let a = 0; a < f; a++) {
      const xa = X[o + a];
      reg += xa * xa;
      let s = 0;
      for (let b = 0; b < f; b++) s += gram[a * f + b] * X[o + b];
      total += xa * s;
    }
    for (let p = rows.offsets[u]; p < rows.offsets[u + 1]; p++) {
      const y = rows.other[p] * f;
      let s = 0;
      for (let a = 0; a < f; a++) s += X[o + a] * Y[y + a];
      const c = 1 + alpha * rows.weight[p];
      total += c * (1 - s) * (1 - s) - s * s;
    }
  }
  for (let k = 0; k < Y.length; k++) reg += Y[k] * Y[k];
  return total + lambda * reg;
}
