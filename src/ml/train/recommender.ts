import type { FactorModel } from '../onnx/recommender';
import { ALS_DEFAULTS, trainAls, type AlsOptions } from './als';
import { BPR_DEFAULTS, trainBpr, type BprOptions } from './bpr';
import { aggregate, DEFAULT_HALF_LIFE_DAYS, heldOutLearners, heldOutPairs, splitByTime, validateEvents, type EventColumns, type Interactions } from './dataset';
import { constantScorer, factorScorer, popularityScores, rankingMetrics } from './evaluate';
import type { ProgressCallback, TrainProgress } from './progress';

export type RecommenderAlgorithm = 'als' | 'bpr';

/**
 * The default algorithm, chosen on the synthetic benchmark (bench/ml/offline.ts:
 * 2,000 learners × 500 courses, ~100k events, held-out NDCG@10 with each
 * algorithm's tuned defaults). ALS ranks better on every seed measured and
 * trains in about the same time (~1 s per phase on 2 cores):
 *
 *   seed  popularity   ALS     BPR     oracle
 *   1     0.1007      0.1568  0.1353  0.2095   (the reported seed)
 *   2     0.0830      0.1419  0.1292  0.1921   (the tuning seed)
 *   3     0.0873      0.1361  0.1185  0.1913
 *   4     0.1258      0.1652  0.1537  0.2215
 */
export const DEFAULT_ALGORITHM: RecommenderAlgorithm = 'als';

export interface RecommenderOptions {
  algorithm?: RecommenderAlgorithm;
  /** Share of events (by time) held out to measure quality; default 0.2. */
  holdoutFraction?: number;
  /** Half-life of an event's weight in days; default 90. */
  halfLifeDays?: number;
  /** Overrides of the chosen algorithm's defaults (factors, iterations or epochs, …). */
  als?: AlsOptions;
  bpr?: BprOptions;
}

/** Held-out quality of a training, stored with the model version; null figures when there was no held-out set. */
export interface RecommenderMetrics {
  algorithm: RecommenderAlgorithm;
  ndcg10: number | null;
  recall10: number | null;
  /** The same figures for recency-weighted popularity, on the same split. */
  popularityNdcg10: number | null;
  popularityRecall10: number | null;
  heldOutLearners: number;
  trainPairs: number;
  testPairs: number;
  /** The split's cutoff; null when there was none. */
  cutoff: string | null;
  /** Why the figures are null, when they are. */
  note?: string;
}

/** The resolved hyper-parameters (JSON), stored with the version. */
export interface RecommenderHyper {
  algorithm: RecommenderAlgorithm;
  holdoutFraction: number;
  halfLifeDays: number;
  als?: Required<AlsOptions>;
  bpr?: Required<BprOptions>;
}

export interface RecommenderTraining {
  model: FactorModel;
  metrics: RecommenderMetrics;
  hyper: RecommenderHyper;
}

/**
 * Trains a recommender on a brand's events in two phases. First a held-out
 * run: split by time, train on the earlier part, measure NDCG@10 and
 * recall@10 on the later part against popularity. Then the served model:
 * the same hyper-parameters on all the data. Progress spans both phases
 * (0–0.5 and 0.5–1), or the final run alone (0–1) when there are no
 * held-out learners, in which case the metrics are null with a note.
 * Deterministic for the same events and seed. Pure computation: run it off
 * the request path (TrainerPool).
 */
export function trainRecommender(events: EventColumns, options: RecommenderOptions = {}, onProgress?: ProgressCallback): RecommenderTraining {
  validateEvents(events);
  if (events.learners === 0 || events.items === 0) throw new RangeError('there are no learner–course interactions to train a recommender on');
  const algorithm = options.algorithm ?? DEFAULT_ALGORITHM;
  if (algorithm !== 'als' && algorithm !== 'bpr') throw new RangeError(`unknown recommender algorithm ${String(algorithm)}`);
  const holdoutFraction = options.holdoutFraction ?? 0.2;
  const halfLifeDays = options.halfLifeDays ?? DEFAULT_HALF_LIFE_DAYS;
  const hyper: RecommenderHyper =
    algorithm === 'als'
      ? { algorithm, holdoutFraction, halfLifeDays, als: { ...ALS_DEFAULTS, ...options.als } }
      : { algorithm, holdoutFraction, halfLifeDays, bpr: { ...BPR_DEFAULTS, ...options.bpr } };
  const trainOn = (data: Interactions, report?: ProgressCallback) => (hyper.als ? trainAls(data, hyper.als, report) : trainBpr(data, hyper.bpr, report));
  const phase = (from: number, to: number, name: string): ProgressCallback | undefined =>
    onProgress && ((p: TrainProgress) => onProgress({ ...p, fraction: from + (to - from) * p.fraction, message: `${name}: ${p.message}` }));

  const split = splitByTime(events, { holdoutFraction, halfLifeDays });
  const testLearners = heldOutLearners(split.test);
  let metrics: RecommenderMetrics;
  if (testLearners === 0) {
    metrics = {
      algorithm,
      ndcg10: null,
      recall10: null,
      popularityNdcg10: null,
      popularityRecall10: null,
      heldOutLearners: 0,
      trainPairs: split.train.learner.length,
      testPairs: 0,
      cutoff: Number.isFinite(split.cutoff) ? new Date(split.cutoff).toISOString() : null,
      note: 'Too little data for a held-out measurement: no learner with interactions before the cutoff met a new course after it. The model is trained on all events.',
    };
  } else {
    const heldOutModel = trainOn(split.train, phase(0, 0.5, 'held-out run'));
    const quality = rankingMetrics(factorScorer(heldOutModel), split.train, split.test, 10);
    const popularity = rankingMetrics(constantScorer(popularityScores(split.train)), split.train, split.test, 10);
    metrics = {
      algorithm,
      ndcg10: quality.ndcg10,
      recall10: quality.recall10,
      popularityNdcg10: popularity.ndcg10,
      popularityRecall10: popularity.recall10,
      heldOutLearners: quality.learners,
      trainPairs: split.train.learner.length,
      testPairs: heldOutPairs(split.test),
      cutoff: new Date(split.cutoff).toISOString(),
    };
  }
  const model = trainOn(aggregate(events, { halfLifeDays }), testLearners === 0 ? phase(0, 1, 'final run') : phase(0.5, 1, 'final run'));
  return { model, metrics, hyper };
}
