import path from 'node:path';
import { types } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { TrainProgress } from './progress';
import type { TrainResults, TrainTask, WorkerMessage } from './task';

export interface TrainerPoolOptions {
  /** Trainings at once, each in its own worker thread; the rest wait in FIFO order. Default 1. */
  concurrency?: number;
}

export interface RunOptions {
  /** Called on the calling thread once per epoch or iteration. */
  onProgress?: (progress: TrainProgress) => void;
  /** Called when the task leaves the queue and its worker starts training, with the worker's thread id. */
  /** The worker's thread, and the nice value it trains at (null where it could not be lowered). */
  onStart?: (info: { threadId: number; priority: number | null }) => void;
  /** Aborting stops the worker at once and rejects with an AbortError. */
  signal?: AbortSignal;
}

/** The error a run rejects with when its signal aborts it. */
export class TrainingAbortedError extends Error {
  override readonly name = 'AbortError';
  constructor(message = 'The training was aborted') {
    super(message);
  }
}

/** The error a run rejects with when the pool is closed before it ends. */
export class TrainerPoolClosedError extends Error {
  override readonly name = 'TrainerPoolClosedError';
  constructor() {
    super('The trainer pool is closed');
  }
}

interface Job {
  task: TrainTask;
  options: RunOptions;
  resolve: (value: TrainResults[TrainTask['kind']]) => void;
  reject: (error: Error) => void;
  worker?: Worker;
  settled: boolean;
  cleanup: () => void;
}

/**
 * Runs trainings in worker threads, never on the calling thread, so a long
 * training never stalls the event loop that serves requests. One fresh
 * worker per task (a training keeps no state for the next), at most
 * `concurrency` at once. A task's typed arrays are transferred to the
 * worker: the caller's arrays are empty afterwards. The model's arrays are
 * transferred back.
 */
export class TrainerPool {
  private readonly concurrency: number;
  private readonly waiting: Job[] = [];
  private readonly running = new Set<Job>();
  private closed = false;

  constructor(options: TrainerPoolOptions = {}) {
    const concurrency = options.concurrency ?? 1;
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    this.concurrency = concurrency;
  }

  /** Tasks started and not yet ended. */
  get active(): number {
    return this.running.size;
  }

  /** Tasks waiting for a worker. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Trains `task` in a worker. Rejects with a TrainingAbortedError (name
   * AbortError) when `signal` aborts, with the worker's error message when
   * the training throws or the worker dies, and with a
   * TrainerPoolClosedError when the pool closes first.
   */
  run<K extends TrainTask['kind']>(task: TrainTask & { kind: K }, options: RunOptions = {}): Promise<TrainResults[K]> {
    return new Promise<TrainResults[K]>((resolve, reject) => {
      if (this.closed) return reject(new TrainerPoolClosedError());
      if (options.signal?.aborted) return reject(new TrainingAbortedError());
      const job: Job = {
        task,
        options,
        resolve: resolve as Job['resolve'],
        reject,
        settled: false,
        cleanup: () => undefined,
      };
      if (options.signal) {
        const signal = options.signal;
        const onAbort = () => this.finish(job, new TrainingAbortedError());
        signal.addEventListener('abort', onAbort, { once: true });
        job.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.waiting.push(job);
      this.pump();
    });
  }

  /** Stops every running training, rejects every waiting one, and refuses new ones. */
  async close(): Promise<void> {
    this.closed = true;
    const error = new TrainerPoolClosedError();
    const workers: Worker[] = [];
    for (const job of [...this.waiting, ...this.running]) {
      if (job.worker) workers.push(job.worker);
      this.finish(job, error);
    }
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.concurrency && this.waiting.length > 0) this.start(this.waiting.shift()!);
  }

  private start(job: Job): void {
    this.running.add(job);
    let worker: Worker;
    try {
      worker = startWorker();
    } catch (error) {
      this.finish(job, error instanceof Error ? error : new Error(String(error)));
      return;
    }
    job.worker = worker;
    worker.on('message', (message: WorkerMessage) => {
      if (job.settled) return;
      switch (message.type) {
        case 'started':
          this.callBack(job, () => job.options.onStart?.({ threadId: message.threadId, priority: message.priority }));
          break;
        case 'progress':
          this.callBack(job, () => job.options.onProgress?.(message.progress));
          break;
        case 'done':
          this.finish(job, null, message.result);
          break;
        case 'error': {
          const error = new Error(message.message);
          if (message.name && message.name !== 'Error') error.name = message.name;
          if (message.stack) error.stack = message.stack;
          this.finish(job, error);
          break;
        }
      }
    });
    worker.on('error', (error) => this.finish(job, new Error(`training worker failed: ${error.message}`)));
    worker.on('messageerror', (error) => this.finish(job, new Error(`training worker sent an unreadable message: ${error.message}`)));
    worker.on('exit', (code) => this.finish(job, new Error(`training worker exited with code ${code} before it finished`)));
    const { message, transfer } = transferable(job.task);
    worker.postMessage(message, transfer);
  }

  /** Runs a caller's callback; one that throws ends its own training with that error. */
  private callBack(job: Job, callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.finish(job, error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Settles a job once: resolves or rejects, stops its worker, frees its slot. */
  private finish(job: Job, error: Error | null, result?: TrainResults[TrainTask['kind']]): void {
    if (job.settled) return;
    job.settled = true;
    job.cleanup();
    const queuedAt = this.waiting.indexOf(job);
    if (queuedAt >= 0) this.waiting.splice(queuedAt, 1);
    if (this.running.delete(job)) {
      // A finished worker exits by itself; terminating is for the others (abort, close, callback error).
      if (error) void job.worker?.terminate();
    }
    if (error) job.reject(error);
    else job.resolve(result!);
    this.pump();
  }
}

/**
 * The worker next to this file. Compiled (dist/…/worker.js) it is started
 * directly; from TypeScript sources (under ts-jest) a worker cannot load a
 * .ts file, so a small bootstrap registers a .ts loader that transpiles
 * with the typescript package (CommonJS) and then requires the worker.
 */
function startWorker(): Worker {
  const ext = path.extname(__filename);
  const entry = path.join(__dirname, `worker${ext}`);
  if (ext !== '.ts') return new Worker(entry);
  return new Worker(TS_BOOTSTRAP, { eval: true, workerData: { entry } });
}

const TS_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const { createRequire } = require('node:module');
const fs = require('node:fs');
const load = createRequire(workerData.entry);
const ts = load('typescript');
load.extensions['.ts'] = function (module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(outputText, filename);
};
load(workerData.entry);
`;

/**
 * The task as a message, with the list of buffers to move: each typed array
 * that owns its whole buffer moves as is; a view into a larger or shared
 * buffer is copied first, so moving it never empties memory the caller
 * still uses elsewhere.
 */
function transferable(task: TrainTask): { message: TrainTask; transfer: ArrayBuffer[] } {
  const transfer = new Set<ArrayBuffer>();
  const own = <T extends Int32Array | Uint8Array | Float64Array>(array: T): T => {
    const whole = types.isArrayBuffer(array.buffer) && array.byteOffset === 0 && array.byteLength === array.buffer.byteLength && !transfer.has(array.buffer);
    const owned = whole ? array : (array.slice() as T);
    transfer.add(owned.buffer as ArrayBuffer);
    return owned;
  };
  if (task.kind === 'segments' || task.kind === 'ner') return { message: task, transfer: [] };
  if (task.kind === 'ctr') {
    const x = task.examples;
    const examples = { F: x.F, buckets: x.buckets, indices: own(x.indices), labels: own(x.labels), time: own(x.time) };
    return { message: { ...task, examples }, transfer: [...transfer] };
  }
  const e = task.events;
  const events = {
    learners: e.learners,
    items: e.items,
    learner: own(e.learner),
    item: own(e.item),
    type: own(e.type),
    rating: own(e.rating),
    time: own(e.time),
  };
  return { message: { ...task, events }, transfer: [...transfer] };
}
