import type { ProgressCallback } from '../train/progress';
import { allRows, validateMatrix, type CtrMatrix } from './examples';
import { FM_DEFAULTS, fmPredict, trainFm, type FmOptions, type FmWeights } from './fm';
import { LR_DEFAULTS, lrPredict, trainLr, type LrOptions, type LrWeights } from './lr';
import { auc, calibration, logLoss, type CalibrationBin } from './metrics';

/** A brand's hashed impressions with their clicks and times (ms since the epoch). */
export interface CtrExamples extends CtrMatrix {
  time: Float64Array;
}

export interface CtrOptions {
  /** Share of impressions (by time) held out to measure quality; default 0.2. */
  holdoutFraction?: number;
  lr?: LrOptions;
  fm?: FmOptions;
}

/** Held-out quality, stored with the version; null figures when there was no usable held-out set. */
export interface CtrMetrics {
  auc: number | null;
  logloss: number | null;
  calibration: CalibrationBin[];
  /** The logistic-regression baseline on the same split. */
  lrAuc: number | null;
  lrLogloss: number | null;
  /** Clicks and impressions in all the data. */
  positives: number;
  examples: number;
  trainExamples: number;
  testExamples: number;
  /** The split's cutoff (ISO); null when there was none. */
  cutoff: string | null;
  note?: string;
}

export interface CtrHyper {
  holdoutFraction: number;
  F: number;
  buckets: number;
  lr: Required<LrOptions>;
  fm: Required<FmOptions>;
}

export interface CtrTraining {
  /** The served model: the FM trained on all the impressions. */
  model: FmWeights;
  /** The logistic regression the metrics compare with: trained on the earlier part (on everything when nothing was held out). */
  baseline: LrWeights;
  metrics: CtrMetrics;
  hyper: CtrHyper;
}

/** The earlier and later rows of a time split: the later `holdoutFraction` of impressions (at or after the cutoff) is held out. */
export interface CtrSplit {
  train: Int32Array;
  test: Int32Array;
  cutoff: number;
}

/** Splits by time as the recommender does: cutoff = the time at rank ⌊(1 − h)·n⌋; rows before it train, the rest test. */
export function splitCtrByTime(time: Float64Array, holdoutFraction = 0.2): CtrSplit {
  if (!(holdoutFraction > 0 && holdoutFraction < 1)) throw new RangeError(`holdoutFraction must be in (0, 1), got ${holdoutFraction}`);
  const n = time.length;
  if (n === 0) return { train: new Int32Array(0), test: new Int32Array(0), cutoff: Number.NaN };
  const sorted = Float64Array.from(time).sort();
  const cutoff = sorted[Math.min(n - 1, Math.floor((1 - holdoutFraction) * n))];
  let before = 0;
  for (let i = 0; i < n; i++) if (time[i] < cutoff) before++;
  const train = new Int32Array(before);
  const test = new Int32Array(n - before);
  for (let i = 0, a = 0, b = 0; i < n; i++) {
    if (time[i] < cutoff) train[a++] = i;
    else test[b++] = i;
  }
  return { train, test, cutoff };
}

/** The rows' indices and labels as a matrix of their own. */
export function selectRows(data: CtrMatrix, rows: Int32Array): CtrMatrix {
  const { F } = data;
  const indices = new Int32Array(rows.length * F);
  const labels = new Uint8Array(rows.length);
  rows.forEach((r, j) => {
    indices.set(data.indices.subarray(r * F, r * F + F), j * F);
    labels[j] = data.labels[r];
  });
  return { indices, labels, F, buckets: data.buckets };
}

const finite = (x: number) => (Number.isFinite(x) ? x : null);

/**
 * Trains the CTR model in two phases. The held-out run: split by time, train
 * a logistic regression and a factorisation machine on the earlier part,
 * measure AUC, log-loss and calibration on the later part. Then the served
 * FM, with the same hyper-parameters, on all the impressions. Progress
 * spans the three trainings in proportion to their epochs. When one side
 * of the split is empty or the held-out part has only one class, the
 * figures that cannot be measured are null with a note. Deterministic for
 * the same data and seeds. Pure computation: run it off the request path
 * (TrainerPool).
 */
export function trainCtr(examples: CtrExamples, options: CtrOptions = {}, onProgress?: ProgressCallback): CtrTraining {
  const n = validateMatrix(examples);
  if (examples.time.length !== n) throw new RangeError(`${examples.time.length} times for ${n} examples`);
  if (n === 0) throw new RangeError('there are no impressions to train a CTR model on');
  const holdoutFraction = options.holdoutFraction ?? 0.2;
  const lrOptions = { ...LR_DEFAULTS, ...options.lr };
  const fmOptions = { ...FM_DEFAULTS, ...options.fm };
  const split = splitCtrByTime(examples.time, holdoutFraction);
  const heldOut = split.train.length > 0 && split.test.length > 0;

  const total = lrOptions.epochs + (heldOut ? fmOptions.epochs : 0) + fmOptions.epochs;
  let done = 0;
  const phase = (epochs: number): ProgressCallback => {
    const start = done;
    done += epochs;
    return (p) => onProgress?.({ ...p, fraction: total ? (start + p.fraction * epochs) / total : 1 });
  };

  let positives = 0;
  for (let i = 0; i < n; i++) positives += examples.labels[i];
  const metrics: CtrMetrics = {
    auc: null,
    logloss: null,
    calibration: [],
    lrAuc: null,
    lrLogloss: null,
    positives,
    examples: n,
    trainExamples: split.train.length,
    testExamples: split.test.length,
    cutoff: Number.isFinite(split.cutoff) ? new Date(split.cutoff).toISOString() : null,
  };
  let baseline: LrWeights;
  if (heldOut) {
    baseline = trainLr(examples, split.train, lrOptions, phase(lrOptions.epochs));
    const fm = trainFm(examples, split.train, fmOptions, phase(fmOptions.epochs));
    const test = selectRows(examples, split.test);
    const fmScores = fmPredict(fm, test.indices, test.F);
    const lrScores = lrPredict(baseline, test.indices, test.F);
    metrics.auc = finite(auc(fmScores, test.labels));
    metrics.logloss = finite(logLoss(fmScores, test.labels));
    metrics.calibration = calibration(fmScores, test.labels);
    metrics.lrAuc = finite(auc(lrScores, test.labels));
    metrics.lrLogloss = finite(logLoss(lrScores, test.labels));
    if (metrics.auc === null) metrics.note = 'the held-out impressions are all clicks or all non-clicks: AUC is undefined';
  } else {
    baseline = trainLr(examples, allRows(n), lrOptions, phase(lrOptions.epochs));
    metrics.cutoff = null;
    metrics.note = 'all impressions share one time: nothing to hold out';
  }
  const model = trainFm(examples, allRows(n), fmOptions, phase(fmOptions.epochs));
  return { model, baseline, metrics, hyper: { holdoutFraction, F: examples.F, buckets: examples.buckets, lr: lrOptions, fm: fmOptions } };
}

/**
 * The click rate of a creative without a model: the posterior mean under a
 * Beta(priorClicks, priorImpressions − priorClicks) prior, e.g. the brand's
 * overall rate worth `priorImpressions` impressions, so a creative with few
 * impressions stays near the prior and one with many follows its own rate.
 */
export function ctrPrior(clicks: number, impressions: number, priorClicks: number, priorImpressions: number): number {
  if (!(impressions >= 0 && clicks >= 0 && clicks <= impressions)) throw new RangeError(`clicks ${clicks} must be in 0..impressions ${impressions}`);
  if (!(priorImpressions > 0 && priorClicks > 0 && priorClicks < priorImpressions)) {
    throw new RangeError(`the prior needs 0 < priorClicks (${priorClicks}) < priorImpressions (${priorImpressions})`);
  }
  return (clicks + priorClicks) / (impressions + priorImpressions);
}
