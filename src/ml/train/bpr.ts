import type { FactorModel } from '../onnx/recommender';
import { learnerOffsets, type Interactions } from './dataset';
import type { ProgressCallback } from './progress';
import { Random } from './random';

/**
 * Bayesian personalised ranking by stochastic gradient descent: for a
 * learner u, an item i they interacted with and an item j they did not,
 * maximise ln σ(s_ui − s_uj) with s_ui = b_i + x_u·y_i, under L2
 * regularisation. Each epoch draws as many (u, i) as there are pairs —
 * in proportion to the pair's weight, or uniformly — and j uniformly among
 * the learner's unobserved items.
 */

export interface BprOptions {
  factors?: number;
  epochs?: number;
  learningRate?: number;
  /** L2 weight on the factors. */
  regularization?: number;
  /** L2 weight on the item biases. */
  biasRegularization?: number;
  /** How positives are drawn: in proportion to the pair's weight, or each pair equally. */
  sampling?: 'weight' | 'uniform';
  seed?: number;
}

/** Defaults tuned on the synthetic benchmark (bench/ml/offline.ts, tuned on a different seed than the one reported). */
export const BPR_DEFAULTS: Required<BprOptions> = {
  factors: 32,
  epochs: 60,
  learningRate: 0.02,
  regularization: 0.02,
  biasRegularization: 0.01,
  sampling: 'weight',
  seed: 1,
};

export function trainBpr(data: Interactions, options: BprOptions = {}, onProgress?: ProgressCallback): FactorModel {
  const o = { ...BPR_DEFAULTS, ...options };
  const f = o.factors;
  if (!(Number.isInteger(f) && f >= 1)) throw new RangeError(`factors must be a positive integer, got ${f}`);
  if (!(Number.isInteger(o.epochs) && o.epochs >= 1)) throw new RangeError(`epochs must be a positive integer, got ${o.epochs}`);
  if (!(o.learningRate > 0)) throw new RangeError(`learningRate must be positive, got ${o.learningRate}`);
  if (!(o.regularization >= 0 && o.biasRegularization >= 0)) throw new RangeError('regularization must be at least 0');
  const { learners, items } = data;
  const nnz = data.learner.length;
  const offsets = learnerOffsets(data);
  const random = new Random(o.seed);

  const X = new Float32Array(learners * f);
  const Y = new Float32Array(items * f);
  const bias = new Float32Array(items);
  const scale = 0.1;
  for (let k = 0; k < X.length; k++) X[k] = random.normal() * scale;
  for (let k = 0; k < Y.length; k++) Y[k] = random.normal() * scale;

  const draw = o.sampling === 'weight' ? aliasSampler(data.weight) : null;
  // A learner who has met every item has no negative to contrast with.
  const sampleable = new Uint8Array(learners);
  for (let u = 0; u < learners; u++) sampleable[u] = offsets[u + 1] > offsets[u] && offsets[u + 1] - offsets[u] < items ? 1 : 0;

  const lr = o.learningRate;
  const reg = o.regularization;
  const regB = o.biasRegularization;
  const gradU = new Float32Array(f);
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    let loss = 0;
    let steps = 0;
    for (let s = 0; s < nnz; s++) {
      const p = draw ? draw(random) : random.int(nnz);
      const u = data.learner[p];
      if (!sampleable[u]) continue;
      const i = data.item[p];
      let j = random.int(items);
      while (has(data.item, offsets[u], offsets[u + 1], j)) j = random.int(items);
      const ou = u * f;
      const oi = i * f;
      const oj = j * f;
      let x = bias[i] - bias[j];
      for (let a = 0; a < f; a++) x += X[ou + a] * (Y[oi + a] - Y[oj + a]);
      // d/dx ln σ(x) = σ(−x); the loss term is softplus(−x), computed stably.
      const g = x > 0 ? Math.exp(-x) / (1 + Math.exp(-x)) : 1 / (1 + Math.exp(x));
      loss += x > 0 ? Math.log1p(Math.exp(-x)) : -x + Math.log1p(Math.exp(x));
      steps++;
      for (let a = 0; a < f; a++) {
        const xu = X[ou + a];
        const yi = Y[oi + a];
        const yj = Y[oj + a];
        gradU[a] = g * (yi - yj) - reg * xu;
        Y[oi + a] = yi + lr * (g * xu - reg * yi);
        Y[oj + a] = yj + lr * (-g * xu - reg * yj);
      }
      for (let a = 0; a < f; a++) X[ou + a] += lr * gradU[a];
      bias[i] += lr * (g - regB * bias[i]);
      bias[j] += lr * (-g - regB * bias[j]);
    }
    onProgress?.({
      fraction: epoch / o.epochs,
      epoch,
      loss: steps > 0 ? loss / steps : 0,
      message: `BPR epoch ${epoch}/${o.epochs}`,
    });
  }
  // A learner never sampled keeps random factors: zero them, so that their
  // scores are the item biases (a popularity ranking), not noise.
  for (let u = 0; u < learners; u++) if (!sampleable[u]) X.fill(0, u * f, u * f + f);
  return { learners, items, factors: f, learnerFactors: X, itemFactors: Y, itemBias: bias };
}

/** Whether sorted `items[start..end)` holds `item`. */
function has(items: Int32Array, start: number, end: number, item: number): boolean {
  let lo = start;
  let hi = end - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = items[mid];
    if (v === item) return true;
    if (v < item) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** Draws an index in proportion to `weight` in O(1) (the alias method). */
function aliasSampler(weight: Float32Array): (random: Random) => number {
  const n = weight.length;
  const prob = new Float64Array(n);
  const alias = new Int32Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) total += weight[k];
  const small: number[] = [];
  const large: number[] = [];
  for (let k = 0; k < n; k++) {
    prob[k] = (weight[k] * n) / total;
    (prob[k] < 1 ? small : large).push(k);
  }
  while (small.length && large.length) {
    const s = small.pop()!;
    const l = large[large.length - 1];
    alias[s] = l;
    prob[l] -= 1 - prob[s];
    if (prob[l] < 1) small.push(large.pop()!);
  }
  for (const k of large) prob[k] = 1;
  for (const k of small) prob[k] = 1;
  return (random) => {
    const k = random.int(n);
    return random.next() < prob[k] ? k : alias[k];
  };
}
