/** One step of a training, reported once per epoch or iteration. */
export interface TrainProgress {
  /** Share of the whole training done, 0..1. */
  fraction: number;
  /** The epoch or iteration just finished, counted from 1 within its phase. */
  epoch: number;
  /** The training objective on the training data (or a cheap estimate of it); lower is better. */
  loss: number;
  message: string;
}

export type ProgressCallback = (progress: TrainProgress) => void;
