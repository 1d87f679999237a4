import os from 'node:os';
import { parentPort, threadId } from 'node:worker_threads';
import { trainCtr } from '../ctr/train';
import { trainTagger } from '../ner/train-tagger';
import { segmentLearners } from '../segments/segment';
import { trainRecommender } from './recommender';
import type { TrainProgress } from './progress';
import type { TrainTask, WorkerMessage } from './task';

/**
 * A training worker: receives one task, posts its progress and its result
 * (the model's arrays moved, not copied), and ends. Only pure training code
 * is imported here: no database, no logger, nothing with a connection.
 */

const port = parentPort;
if (!port) throw new Error('the training worker must run in a worker thread (TrainerPool starts it)');

/**
 * Training yields the processor to requests: on Linux a thread's nice value
 * is its own, and setpriority on "this process" from a thread sets only that
 * thread's. Elsewhere it may lower the whole process, so it is done on Linux
 * only. Returns the priority the worker trains at.
 */
function yieldToRequests(): number | null {
  if (process.platform !== 'linux') return null;
  try {
    os.setPriority(0, os.constants.priority.PRIORITY_LOW);
    return os.getPriority(0);
  } catch {
    return null; // not permitted: train at the normal priority
  }
}
const priority = yieldToRequests();

port.once('message', async (task: TrainTask) => {
  const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  post({ type: 'started', threadId, priority });
  try {
    const onProgress = (progress: TrainProgress) => post({ type: 'progress', progress });
    if (task.kind === 'recommender') {
      const result = trainRecommender(task.events, task.options, onProgress);
      const { learnerFactors, itemFactors, itemBias } = result.model;
      post({ type: 'done', result }, [learnerFactors.buffer, itemFactors.buffer, itemBias.buffer].filter(unique) as ArrayBuffer[]);
    } else if (task.kind === 'ctr') {
      const result = trainCtr(task.examples, task.options, onProgress);
      post({ type: 'done', result }, [result.model.w.buffer, result.model.v.buffer, result.baseline.w.buffer].filter(unique) as ArrayBuffer[]);
    } else if (task.kind === 'ner') {
      const result = await trainTagger(task.corpus, task.options, onProgress);
      const w = result.weights;
      post({ type: 'done', result }, [w.embedding.buffer, w.outW.buffer, w.outB.buffer, ...w.layers.flatMap((l) => [l.W.buffer, l.b.buffer])] as ArrayBuffer[]);
    } else if (task.kind === 'segments') {
      const result = segmentLearners(task.learners, task.options, onProgress);
      post({ type: 'done', result }, [result.assignments.buffer as ArrayBuffer]);
    } else {
      throw new Error(`unknown training task ${String((task as { kind: unknown }).kind)}`);
    }
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    post({ type: 'error', name: e.name, message: e.message, stack: e.stack });
  }
});

function unique<T>(value: T, index: number, all: T[]): boolean {
  return all.indexOf(value) === index;
}
