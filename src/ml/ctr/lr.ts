import type { ProgressCallback } from '../train/progress';
import { Random } from '../train/random';
import { pointLoss, sigmoid, type CtrMatrix } from './examples';

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
  let bias = 0;
  let biasG2 = 0;
  const random = new Random(o.seed);
  const order = rows.slice();
  const eta = o.learningRate;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    shuffle(order, random);
    let loss = 0;
    for (let r = 0; r < order.length; r++) {
      const row = order[r];
      const base = row * F;
      let z = bias;
      for (let f = 0; f < F; f++) z += w[indices[base + f]];
      const p = sigmoid(z);
      const y = labels[row];
      loss += pointLoss(p, y);
      const g = p - y;
      biasG2 += g * g;
      bias -= (eta * g) / Math.sqrt(biasG2 + 1e-12);
      for (let f = 0; f < F; f++) {
        const i = indices[base + f];
        if (i === 0) continue;
        const gi = g + o.l2 * w[i];
        g2[i] += gi * gi;
        w[i] -= (eta * gi) / Math.sqrt(g2[i] + 1e-12);
      }
    }
    onProgress?.({ fraction: epoch / o.epochs, epoch, loss: order.length ? loss / order.length : 0, message: `logistic regression epoch ${epoch}/${o.epochs}` });
  }
  w[0] = 0;
  return { buckets, bias, w: Float32Array.from(w) };
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

/** Fisher–Yates with the seeded generator. */
export function shuffle(a: Int32Array, random: Random): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}
