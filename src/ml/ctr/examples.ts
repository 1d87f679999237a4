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
