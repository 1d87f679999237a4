import type { CtrExamples, CtrOptions, CtrTraining } from '../ctr/train';
import type { TaggerOptions, TaggerTraining } from '../ner/train-tagger';
import type { AnnotatedText } from '../ner/types';
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

/** A demand tagger (src/ml/ner/train-tagger.ts); the sentences are copied. */
export interface NerTask {
  kind: 'ner';
  corpus: AnnotatedText[];
  options?: TaggerOptions;
}

export type TrainTask = RecommenderTask | CtrTask | SegmentsTask | NerTask;

/** What each kind of task resolves with. */
export interface TrainResults {
  recommender: RecommenderTraining;
  ctr: CtrTraining;
  segments: SegmentationTraining;
  ner: TaggerTraining;
}

/** Messages from a training worker to the pool. */
export type WorkerMessage =
  | { type: 'started'; threadId: number; priority: number | null }
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'done'; result: TrainResults[TrainTask['kind']] }
  | { type: 'error'; name: string; message: string; stack?: string };
