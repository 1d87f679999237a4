import type { ProgressCallback } from '../train/progress';
import { Random } from '../train/random';
import { adagrad, onlineEpochs, pointLoss, sigmoid, type CtrMatrix } from './examples';

/** A logistic regression over hashed features: p = σ(bias + Σ_i w[index_i]); w[0] = 0 (padding). */
export interface LrWeights {
  buckets: number;
  bias: number;
  w: Float32Array;
}

export interface LrOptions {
  epochs?: number;
  /** AdaGrad's base step. */
  learningRate?: number;
  /** L2 on each weight an example touches, per touch. */
  l2?: number;
  seed?: number;
}

export const LR_DEFAULTS: Required<LrOptions> = { epochs: 4, learningRate: 0.05, l2: 1e-6, seed: 1 };

/**
 * Trains a logistic regression on `rows` of `data` by AdaGrad, one example
 * at a time in a seeded shuffled order per epoch. L2 is applied lazily to
 * the weights an example touches (sparse data: the untouched ones do not
 * move). Reports each epoch's progressive log-loss (each example scored
 * before its update), a cheap estimate of the training loss. Deterministic
 * for the same data, rows and seed.
 */
export function trainLr(data: CtrMatrix, rows: Int32Array, options: LrOptions = {}, onProgress?: ProgressCallback): LrWeights {
  const o = { ...LR_DEFAULTS, ...options };
  const { indices, labels, F, buckets } = data;
  const w = new Float64Array(buckets);
  const g2 = new Float64Array(buckets);
  const bias = new Float64Array(1);
  const biasG2 = new Float64Array(1);
  const eta = o.learningRate;
  onlineEpochs(rows, o.epochs, new Random(o.seed), 'logistic regression', onProgress, (row) => {
    const base = row * F;
    let z = bias[0];
    for (let f = 0; f < F; f++) z += w[indices[base + f]];
    const p = sigmoid(z);
    const y = labels[row];
    const g = p - y;
    adagrad(bias, biasG2, 0, g, eta);
    for (let f = 0; f < F; f++) {
      const i = indices[base + f];
      if (i !== 0) adagrad(w, g2, i, g + o.l2 * w[i], eta);
    }
    return pointLoss(p, y);
  });
  w[0] = 0;
  return { buckets, bias: bias[0], w: Float32Array.from(w) };
}

/** Click probabilities of every row, computed as the ONNX graph does (float32 weights). */
export function lrPredict(model: LrWeights, indices: Int32Array, F: number): Float32Array {
  const n = indices.length / F;
  const out = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let z = model.bias;
    for (let f = 0; f < F; f++) z += model.w[indices[r * F + f]];
    out[r] = sigmoid(z);
  }
  return out;
}
