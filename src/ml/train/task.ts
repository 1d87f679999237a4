import type { CtrExamples, CtrOptions, CtrTraining } from '../ctr/train';
import type { LearnerAggregates } from '../segments/features';
import type { SegmentationOptions, SegmentationTraining } from '../segments/segment';
import type { EventColumns } from './dataset';
import type { TrainProgress } from './progress';
import type { RecommenderOptions, RecommenderTraining } from './recommender';

/** A training for the TrainerPool; its typed arrays are moved to the worker, not copied. */
export interface RecommenderTask {
  kind: 'recommender';
  events: EventColumns;
  options?: RecommenderOptions;
}

/** A CTR training (src/ml/ctr/train.ts); its typed arrays are moved to the worker, not copied. */
export interface CtrTask {
  kind: 'ctr';
  examples: CtrExamples;
  options?: CtrOptions;
}

/** A segmentation of a brand's learners (src/ml/segments/segment.ts); the aggregates are copied. */
export interface SegmentsTask {
  kind: 'segments';
  learners: LearnerAggregates[];
  options?: SegmentationOptions;
}

export type TrainTask = RecommenderTask | CtrTask | SegmentsTask;

/** What each kind of task resolves with. */
export interface TrainResults {
  recommender: RecommenderTraining;
  ctr: CtrTraining;
  segments: SegmentationTraining;
}

/** Messages from a training worker to the pool. */
export type WorkerMessage =
  | { type: 'started'; threadId: number; priority: number | null }
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'done'; result: TrainResults[TrainTask['kind']] }
  | { type: 'error'; name: string; message: string; stack?: string };
