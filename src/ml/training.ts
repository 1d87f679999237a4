import type { Logger } from 'pino';
import type { ModelKind } from '../entities/enums';
import { AlliedError } from '../errors';
import { Principal } from '../tenancy/principal';
import type { ModelArtifact, ModelRegistry, ModelVersionRow } from './registry/registry';
import type { Provider } from './runtime/runtime';
import type { TrainerPool } from './train/pool';
import type { EnqueueJobs, JobOfBrand, RunInTenant, TenantScope } from './tenant';

/** The job that starts a training on whichever instance claims it. */
export const TRAIN_JOB = 'ml.train';

/** One training's view of its run: its brand and version, the pool, progress, and its abort signal. */
export interface TrainerRun {
  brandId: string;
  version: ModelVersionRow;
  /** A short transaction of the brand (system principal). */
  asBrand<T>(work: (ctx: TenantScope) => Promise<T>): Promise<T>;
  pool: TrainerPool;
  /** Stores a progress report at once. */
  report(p: Progress): Promise<void>;
  /** Stores the latest progress, at most a few times a second. */
  push(p: Progress): void;
  signal: AbortSignal;
}

/** What a training hands the registry. */
export interface Trained {
  artifact: ModelArtifact;
  metrics: Record<string, unknown>;
  /** Runs in the transaction that stores the version, when the version became active (e.g. write learners' segments). */
  onActive?: (ctx: TenantScope) => Promise<void>;
}

/** Reads a brand's data, trains in the pool, and returns what to store; throws AlliedError with what is missing. */
export type KindTrainer = (run: TrainerRun) => Promise<Trained>;

export interface TrainingOptions {
  /** How often a running or waiting training says it is alive, in ms. */
  heartbeatMs: number;
  /** Least time between two stored progress reports of one training, in ms. */
  progressMs: number;
}

interface Run {
  versionId: string;
  abort: AbortController;
  done: Promise<void>;
}

/**
 * Trainings: `start` records a TRAINING version and enqueues its job in the
 * caller's transaction; the job, on whichever instance claims it, hands the
 * training to this instance's worker pool once the claim has committed (a
 * job's transaction must stay short: the training itself reads and writes
 * in short transactions of its own, and computes in a worker thread). The
 * version's heartbeat says the training is alive; one whose instance
 * stopped is failed by the sweep (src/ml/registry).
 */
export class TrainingRuns {
  private readonly runs = new Map<string, Run>();

  constructor(
    private readonly deps: {
      runAs: RunInTenant;
      registry: ModelRegistry;
      pool: TrainerPool;
      trainers: Partial<Record<ModelKind, KindTrainer>>;
      jobs: EnqueueJobs;
      provider: Provider;
      log: Logger;
      options: TrainingOptions;
    },
  ) {}

  /** A new TRAINING version of `kind` for the caller's brand; the training starts once the transaction commits. */
  async start(ctx: TenantScope, kind: ModelKind, hyper: Record<string, unknown> = {}): Promise<ModelVersionRow> {
    if (!this.deps.trainers[kind]) {
      const trainable = Object.keys(this.deps.trainers).join(', ');
      throw new AlliedError('BAD_USER_INPUT', `${kind} models cannot be trained yet; ${trainable} can.`);
    }
    const version = await this.deps.registry.create(ctx, { kind, device: this.deps.provider, hyper });
    await this.deps.jobs.enqueue(ctx, { kind: TRAIN_JOB, payload: { versionId: version.id, kind }, idempotencyKey: version.id, maxAttempts: 1 });
    return version;
  }

  /** The job's handler: schedules the training here, after the claim commits. */
  readonly handler = async (job: JobOfBrand, ctx: TenantScope): Promise<void> => {
    const { versionId } = job.payload as { versionId: string };
    ctx.afterCommit(() => this.run(job.brandId, versionId));
  };

  /** Stops every training of this instance; each is marked FAILED with the reason. */
  async close(): Promise<void> {
    for (const run of this.runs.values()) run.abort.abort(new Error('The server stopped before the training finished. Train again.'));
    await Promise.all([...this.runs.values()].map((r) => r.done));
  }

  private run(brandId: string, versionId: string): void {
    if (this.runs.has(versionId)) return;
    const abort = new AbortController();
    const run: Run = { versionId, abort, done: Promise.resolve() };
    run.done = this.train(brandId, versionId, abort.signal).finally(() => this.runs.delete(versionId));
    this.runs.set(versionId, run);
  }

  private asBrand<T>(brandId: string, work: (ctx: TenantScope) => Promise<T>): Promise<T> {
    return this.deps.runAs(Principal.system(brandId, 'training'), work, { log: this.deps.log });
  }

  private async train(brandId: string, versionId: string, signal: AbortSignal): Promise<void> {
    const { registry, pool, log, options } = this.deps;
    const heartbeat = setInterval(() => {
      this.asBrand(brandId, (ctx) => registry.heartbeat(ctx, versionId)).catch((error) => log.warn({ err: error, versionId }, 'training heartbeat failed'));
    }, options.heartbeatMs);
    heartbeat.unref();
    const progress = new ProgressWriter((p) => this.asBrand(brandId, (ctx) => registry.progress(ctx, versionId, p)), options.progressMs, log);
    const started = Date.now();
    try {
      const version = await this.asBrand(brandId, (ctx) => registry.get(ctx, versionId));
      if (!version || version.status !== 'TRAINING') return;
      const trainer = this.deps.trainers[version.kind];
      if (!trainer) throw new AlliedError('BAD_USER_INPUT', `${version.kind} models cannot be trained by this server.`);
      const trained = await trainer({
        brandId,
        version,
        asBrand: (work) => this.asBrand(brandId, work),
        pool,
        report: (p) => progress.report(p),
        push: (p) => progress.push(p),
        signal,
      });
      await progress.flush();
      const metrics = { ...trained.metrics, trainingMs: Date.now() - started };
      const stored = await this.asBrand(brandId, async (ctx) => {
        const row = await registry.complete(ctx, versionId, { artifact: trained.artifact, metrics });
        if (row.active && trained.onActive) await trained.onActive(ctx);
        return row;
      });
      log.info({ brandId, versionId, kind: version.kind, ms: Date.now() - started, active: stored.active }, 'model trained');
    } catch (error) {
      const reason = signal.aborted ? String((signal.reason as Error)?.message ?? 'aborted') : messageOf(error);
      log.warn({ brandId, versionId, err: error }, 'model training failed');
      await this.asBrand(brandId, (ctx) => registry.fail(ctx, versionId, reason)).catch((e) => log.error({ err: e, versionId }, 'could not record a failed training'));
    } finally {
      clearInterval(heartbeat);
      progress.stop();
    }
  }
}

function messageOf(error: unknown): string {
  if (error instanceof AlliedError) return error.message;
  return `Training failed: ${error instanceof Error ? error.message : String(error)}`;
}

export type Progress = { progress: number; epoch?: number | null; loss?: number | null; message?: string | null };

/** Stores the latest progress at most once per interval; never more than one write at a time. */
class ProgressWriter {
  private latest: Progress | null = null;
  private last = 0;
  private writing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly write: (p: Progress) => Promise<void>,
    private readonly intervalMs: number,
    private readonly log: Pick<Logger, 'warn'>,
  ) {}

  push(p: Progress): void {
    this.latest = p;
    if (this.timer || this.writing) return;
    const wait = Math.max(0, this.last + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, wait);
  }

  async report(p: Progress): Promise<void> {
    this.latest = p;
    await this.flush();
  }

  async flush(): Promise<void> {
    await this.writing;
    const p = this.latest;
    if (!p) return;
    this.latest = null;
    this.last = Date.now();
    this.writing = this.write(p)
      .catch((error) => this.log.warn({ err: error }, 'training progress not stored'))
      .finally(() => {
        this.writing = null;
        if (this.latest) this.push(this.latest);
      });
    await this.writing;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.latest = null;
  }
}
