import type { ProgressCallback } from '../train/progress';
import { Random } from '../train/random';
import { adagrad, onlineEpochs, pointLoss, sigmoid, type CtrMatrix } from './examples';

/**
 * A second-order factorisation machine over hashed features:
 * p = σ(bias + Σ_i w_i + ½ Σ_f ((Σ_i v_if)² − Σ_i v_if²)), the sums over an
 * example's F indices; row 0 of w and v (padding) is zero.
 */
export interface FmWeights {
  buckets: number;
  k: number;
  bias: number;
  w: Float32Array;
  /** buckets × k, row-major. */
  v: Float32Array;
}

export interface FmOptions {
  /** Factors per bucket. */
  k?: number;
  epochs?: number;
  /** AdaGrad's base step, for w and v alike. */
  learningRate?: number;
  /** L2 per touch on the linear weights and on the factors. */
  l2Linear?: number;
  l2Factors?: number;
  /** Standard deviation of the initial factors. */
  initScale?: number;
  seed?: number;
}

/**
 * Chosen on the synthetic benchmark (bench/ml/run-ctr-offline.sh, 200k
 * impressions) on the tuning seeds 2 and 3: held-out AUC is flat within
 * ±0.002 across learning rates 0.03–0.05, 3–8 epochs and k 4–8; factor L2
 * 3e-3 per touch is best on both (1e-5 to 1e-1 measured); k = 16 is worse.
 */
export const FM_DEFAULTS: Required<FmOptions> = { k: 8, epochs: 4, learningRate: 0.05, l2Linear: 1e-6, l2Factors: 3e-3, initScale: 0.05, seed: 1 };

/**
 * Trains a factorisation machine on `rows` of `data` by AdaGrad, one
 * example at a time in a seeded shuffled order per epoch, with lazy L2 on
 * the rows an example touches. Reports each epoch's progressive log-loss.
 * Deterministic for the same data, rows and seed.
 */
export function trainFm(data: CtrMatrix, rows: Int32Array, options: FmOptions = {}, onProgress?: ProgressCallback): FmWeights {
  const o = { ...FM_DEFAULTS, ...options };
  const { indices, labels, F, buckets } = data;
  const k = o.k;
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`k must be a positive integer, got ${k}`);
  const random = new Random(o.seed);
  const w = new Float64Array(buckets);
  const wG2 = new Float64Array(buckets);
  const v = new Float64Array(buckets * k);
  const vG2 = new Float64Array(buckets * k);
  for (let i = k; i < v.length; i++) v[i] = o.initScale * random.normal();
  const bias = new Float64Array(1);
  const biasG2 = new Float64Array(1);
  const sum = new Float64Array(k);
  const eta = o.learningRate;
  onlineEpochs(rows, o.epochs, random, 'factorisation machine', onProgress, (row) => {
    const base = row * F;
    let z = bias[0];
    sum.fill(0);
    let squares = 0;
    for (let f = 0; f < F; f++) {
      const i = indices[base + f];
      z += w[i];
      const vi = i * k;
      for (let c = 0; c < k; c++) {
        const x = v[vi + c];
        sum[c] += x;
        squares += x * x;
      }
    }
    let pair = 0;
    for (let c = 0; c < k; c++) pair += sum[c] * sum[c];
    z += 0.5 * (pair - squares);
    const p = sigmoid(z);
    const y = labels[row];
    const g = p - y;
    adagrad(bias, biasG2, 0, g, eta);
    for (let f = 0; f < F; f++) {
      const i = indices[base + f];
      if (i === 0) continue;
      adagrad(w, wG2, i, g + o.l2Linear * w[i], eta);
      const vi = i * k;
      // ∂z/∂v_ic = Σ_j v_jc − v_ic: the sum of the example's other factors.
      for (let c = 0; c < k; c++) adagrad(v, vG2, vi + c, g * (sum[c] - v[vi + c]) + o.l2Factors * v[vi + c], eta);
    }
    return pointLoss(p, y);
  });
  w[0] = 0;
  v.fill(0, 0, k);
  return { buckets, k, bias: bias[0], w: Float32Array.from(w), v: Float32Array.from(v) };
}

/** Click probabilities of every row, from the float32 weights. */
export function fmPredict(model: FmWeights, indices: Int32Array, F: number): Float32Array {
  const { k, w, v } = model;
  const n = indices.length / F;
  const out = new Float32Array(n);
  const sum = new Float64Array(k);
  for (let r = 0; r < n; r++) {
    let z = model.bias;
    sum.fill(0);
    let squares = 0;
    for (let f = 0; f < F; f++) {
      const i = indices[r * F + f];
      z += w[i];
      for (let c = 0; c < k; c++) {
        const x = v[i * k + c];
        sum[c] += x;
        squares += x * x;
      }
    }
    let pair = 0;
    for (let c = 0; c < k; c++) pair += sum[c] * sum[c];
    out[r] = sigmoid(z + 0.5 * (pair - squares));
  }
  return out;
}
