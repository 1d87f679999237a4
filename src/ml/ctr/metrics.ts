import { pointLoss } from './examples';

/**
 * Area under the ROC curve, exact: the Mann–Whitney statistic with tied
 * scores given their average rank (a tie between a click and a non-click
 * counts one half). NaN when the labels are all one class.
 */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  if (labels.length !== n) throw new RangeError(`${n} scores for ${labels.length} labels`);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && scores[order[end]] === scores[order[start]]) end++;
    // Ranks start + 1 … end share their mean.
    const rank = (start + 1 + end) / 2;
    for (let j = start; j < end; j++) {
      if (labels[order[j]]) {
        positives++;
        rankSum += rank;
      }
    }
    start = end;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean log-loss (natural log), predictions clamped to [1e-15, 1 − 1e-15]; NaN for no examples. */
export function logLoss(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  if (labels.length !== n) throw new RangeError(`${n} scores for ${labels.length} labels`);
  if (n === 0) return Number.NaN;
  let total = 0;
  for (let i = 0; i < n; i++) total += pointLoss(scores[i], labels[i]);
  return total / n;
}

/** One calibration bin: predictions in [lower, upper); the last bin includes 1. */
export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  /** Null for an empty bin. */
  meanPredicted: number | null;
  observedRate: number | null;
}

/** Reliability table: `bins` equal-width bins of the predicted probability, each with its mean prediction and click rate. */
export function calibration(scores: ArrayLike<number>, labels: ArrayLike<number>, bins = 10): CalibrationBin[] {
  if (!(Number.isInteger(bins) && bins >= 1)) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  if (labels.length !== scores.length) throw new RangeError(`${scores.length} scores for ${labels.length} labels`);
  const count = new Float64Array(bins);
  const predicted = new Float64Array(bins);
  const clicks = new Float64Array(bins);
  for (let i = 0; i < scores.length; i++) {
    const p = scores[i];
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    count[b]++;
    predicted[b] += p;
    clicks[b] += labels[i] ? 1 : 0;
  }
  return Array.from({ length: bins }, (_, b) => ({
    lower: b / bins,
    upper: (b + 1) / bins,
    count: count[b],
    meanPredicted: count[b] ? predicted[b] / count[b] : null,
    observedRate: count[b] ? clicks[b] / count[b] : null,
  }));
}
