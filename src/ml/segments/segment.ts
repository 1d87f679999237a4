import type { ProgressCallback } from '../train/progress';
import { learnerFeatures, featureRow, standardise, standardiseRow, unstandardiseRow, type FeatureSpec, type LearnerAggregates, type Standardisation } from './features';
import { chooseK, type KScore } from './kmeans';
import { labelSegments, segmentMeans } from './labels';

/** Most learners the silhouette is computed on (a seeded sample above it). */
export const SEGMENT_SILHOUETTE_SAMPLE = 5000;

export interface SegmentationOptions {
  kMin?: number;
  kMax?: number;
  seed?: number;
  restarts?: number;
  topics?: number;
}

/** A trained segmentation: what places a learner, and what describes each segment. JSON-safe. */
export interface SegmentationModel {
  spec: FeatureSpec;
  names: string[];
  means: number[];
  stds: number[];
  /** Centroids in standardised units, one per segment. */
  centroids: number[][];
  labels: string[];
  sizes: number[];
}

export interface SegmentationTraining {
  model: SegmentationModel;
  /** The segment index of each input learner, in input order. */
  assignments: Int32Array;
  metrics: { k: number; silhouette: number; inertia: number; scores: KScore[]; learners: number; features: string[] };
  hyper: Required<SegmentationOptions>;
}

export const SEGMENTATION_DEFAULTS: Required<SegmentationOptions> = { kMin: 2, kMax: 8, seed: 1, restarts: 4, topics: 6 };

/**
 * Segments a brand's learners: their feature rows (features.ts),
 * standardised; k-means for each k in kMin..kMax with k chosen by
 * silhouette; a readable label per segment from its centroid (labels.ts).
 * Pure computation: run it off the request path (TrainerPool).
 */
export function segmentLearners(learners: readonly LearnerAggregates[], options: SegmentationOptions = {}, onProgress?: ProgressCallback): SegmentationTraining {
  const hyper = { ...SEGMENTATION_DEFAULTS, ...options };
  if (learners.length < hyper.kMin + 1) {
    throw new RangeError(`segmenting needs at least ${hyper.kMin + 1} learners; the brand has ${learners.length}`);
  }
  const features = learnerFeatures(learners, { topics: hyper.topics });
  const { rows, standardisation } = standardise(features.rows);
  const chosen = chooseK(rows, {
    kMin: hyper.kMin,
    kMax: hyper.kMax,
    seed: hyper.seed,
    restarts: hyper.restarts,
    sampleSize: SEGMENT_SILHOUETTE_SAMPLE,
    onProgress,
  });
  const { result } = chosen;
  const tenure = learners.map((l) => l.tenureDays);
  const labels = labelSegments(result.centroids, standardisation, features.names, {
    tenure: { segments: segmentMeans(tenure, result.assignments, result.k), population: tenure.reduce((a, b) => a + b, 0) / learners.length },
  });
  const best = chosen.scores.find((s) => s.k === result.k)!;
  return {
    model: {
      spec: features.spec,
      names: features.names,
      means: Array.from(standardisation.means),
      stds: Array.from(standardisation.stds),
      centroids: result.centroids.map((c) => Array.from(c)),
      labels,
      sizes: result.sizes,
    },
    assignments: result.assignments,
    metrics: { k: result.k, silhouette: best.silhouette, inertia: result.inertia, scores: chosen.scores, learners: learners.length, features: features.names },
    hyper,
  };
}

function standardisationOf(model: SegmentationModel): Standardisation {
  return { means: Float64Array.from(model.means), stds: Float64Array.from(model.stds) };
}

/** The nearest segment (index) of a learner under a trained segmentation: ties to the lower index. */
export function nearestSegment(model: SegmentationModel, learner: LearnerAggregates): number {
  const z = standardiseRow(featureRow(learner, model.spec), standardisationOf(model));
  let best = 0;
  let bestDistance = Infinity;
  model.centroids.forEach((c, s) => {
    let d = 0;
    for (let j = 0; j < z.length; j++) d += (z[j] - c[j]) ** 2;
    if (d < bestDistance) {
      bestDistance = d;
      best = s;
    }
  });
  return best;
}

/** A segment's centroid in the features' own units, by feature name (what `segmentation` shows). */
export function centroidInUnits(model: SegmentationModel, segment: number): Record<string, number> {
  const original = unstandardiseRow(Float64Array.from(model.centroids[segment]), standardisationOf(model));
  return Object.fromEntries(model.names.map((name, j) => [name, Number(original[j].toFixed(4))]));
}
