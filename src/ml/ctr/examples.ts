import type { ProgressCallback } from '../train/progress';
import type { Random } from '../train/random';

/** Hashed CTR examples: n rows of F bucket indices (0 = padding) with a 0/1 click label each. */
export interface CtrMatrix {
  /** n × F, row-major, each in 0..buckets−1. */
  indices: Int32Array;
  /** n clicks, 0 or 1. */
  labels: Uint8Array;
  F: number;
  buckets: number;
}

/** Checks a matrix's shape and ranges once, so the trainers' inner loops need not. */
export function validateMatrix(data: CtrMatrix): number {
  const { indices, labels, F, buckets } = data;
  if (!(Number.isInteger(F) && F >= 1)) throw new RangeError(`F must be a positive integer, got ${F}`);
  if (!(Number.isInteger(buckets) && buckets >= 2)) throw new RangeError(`buckets must be an integer ≥ 2, got ${buckets}`);
  if (indices.length !== labels.length * F) throw new RangeError(`${indices.length} indices for ${labels.length} examples of ${F}`);
  for (let i = 0; i < indices.length; i++) {
    if (!(indices[i] >= 0 && indices[i] < buckets)) throw new RangeError(`index ${indices[i]} at ${i} is outside 0..${buckets - 1}`);
  }
  for (let i = 0; i < labels.length; i++) if (labels[i] > 1) throw new RangeError(`label ${labels[i]} at ${i} is not 0 or 1`);
  return labels.length;
}

/** All rows 0..n−1. */
export function allRows(n: number): Int32Array {
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  return rows;
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Log-loss of one prediction, p clamped away from 0 and 1. */
export function pointLoss(p: number, y: number): number {
  const q = Math.min(1 - 1e-15, Math.max(1e-15, p));
  return y ? -Math.log(q) : -Math.log(1 - q);
}

/** AdaGrad on one coordinate: accumulates the squared gradient and steps by eta / √Σg². */
export function adagrad(params: Float64Array, squares: Float64Array, i: number, gradient: number, eta: number): void {
  squares[i] += gradient * gradient;
  params[i] -= (eta * gradient) / Math.sqrt(squares[i] + 1e-12);
}

/**
 * The online loop both CTR trainers share: `epochs` passes over `rows`, each
 * in an order shuffled by `random`; `example(row)` scores one example,
 * updates the model and returns its log-loss before the update. Reports
 * each epoch's mean of those (progressive validation) as `${name} epoch e/n`.
 */
export function onlineEpochs(
  rows: Int32Array,
  epochs: number,
  random: Random,
  name: string,
  onProgress: ProgressCallback | undefined,
  example: (row: number) => number,
): void {
  const order = rows.slice();
  for (let epoch = 1; epoch <= epochs; epoch++) {
    shuffle(order, random);
    let loss = 0;
    for (let r = 0; r < order.length; r++) loss += example(order[r]);
    onProgress?.({ fraction: epoch / epochs, epoch, loss: order.length ? loss / order.length : 0, message: `${name} epoch ${epoch}/${epochs}` });
  }
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
