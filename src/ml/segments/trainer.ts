import { AlliedError } from '../../errors';
import type { TrainProgress } from '../train/progress';
import type { KindTrainer } from '../training';
import { loadLearnerAggregates, writeSegments } from './data';
import { SEGMENTATION_DEFAULTS, type SegmentationModel, type SegmentationOptions } from './segment';

/** How a SEGMENTATION artifact is stored: the model as canonical JSON in `meta`; there is no graph to run. */
export const SEGMENTATION_FORMAT = 'allied.segmentation.v1';

/** The segmentation a version's artifact holds. */
export function segmentationOf(meta: Record<string, unknown>): SegmentationModel {
  if (meta.format !== SEGMENTATION_FORMAT) throw new Error(`unknown segmentation artifact format ${String(meta.format)}`);
  return meta.model as SegmentationModel;
}

/**
 * A SEGMENTATION training: every learner's aggregates, k-means with k by
 * silhouette in the worker, labels; once the version is active (always, see
 * the registry's rule), every learner's `segment` is written in the same
 * transaction that stores it.
 */
export const trainSegmentationVersion: KindTrainer = async ({ version, asBrand, pool, report, push, signal }) => {
  const now = new Date();
  const learners = await asBrand((ctx) => loadLearnerAggregates(ctx, now));
  const hyper = { ...SEGMENTATION_DEFAULTS, ...(version.hyper as SegmentationOptions) };
  if (learners.length < hyper.kMin + 1) {
    throw new AlliedError('BAD_USER_INPUT', `Segmenting needs at least ${hyper.kMin + 1} learners; the brand has ${learners.length}.`);
  }
  await report({ progress: 0, message: `read the aggregates of ${learners.length} learners` });
  const ids = learners.map((l) => l.learnerId);
  const result = await pool.run(
    { kind: 'segments', learners, options: hyper },
    { onProgress: (p: TrainProgress) => push({ progress: p.fraction, epoch: p.epoch, loss: p.loss, message: p.message }), signal },
  );
  const labels = Array.from(result.assignments, (s) => result.model.labels[s]);
  return {
    artifact: { bytes: new Uint8Array(0), meta: { format: SEGMENTATION_FORMAT, model: result.model } as unknown as Record<string, unknown> },
    metrics: { ...result.metrics, at: now.toISOString(), hyper: result.hyper },
    onActive: (ctx) => writeSegments(ctx, ids, labels),
  };
};
