import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { ModelKind } from '../entities/enums';
import { CtrServing } from './ctr/serving';
import { ctrTrainer } from './ctr/trainer';
import { readDefaultTagger, type DefaultTagger } from './ner/default-model';
import { NerServing } from './ner/serving';
import { nerTrainer } from './ner/trainer';
import { trainRecommenderVersion } from './recommend/trainer';
import { trainSegmentationVersion } from './segments/trainer';
import type { Signal, SignalBus } from '../realtime/signal';
import type { MicroBatcherOptions } from './recommend/batcher';
import { RecommenderServing, type ModelCall, type ServedVersion } from './recommend/serving';
import { failAbandonedTrainings, ModelIntegrityError, ModelRegistry, type ModelVersionRow } from './registry/registry';
import { SessionCache, type SessionCacheOptions } from './runtime/cache';
import { ModelRuntime, type MlDevice } from './runtime/runtime';
import { TrainerPool } from './train/pool';
import { TRAIN_JOB, TrainingRuns } from './training';
import type { EnqueueJobs, RunInTenant, TenantScope } from './tenant';

export interface ModelLayerOptions {
  device: MlDevice;
  cache: SessionCacheOptions;
  batching: MicroBatcherOptions;
  /** Trainings this instance runs at once (each in its own worker thread). */
  trainingConcurrency: number;
  /** A TRAINING version with no heartbeat for this long, and no live job, was abandoned by a stopped instance. */
  abandonedAfterMs: number;
  /** Only this process can open the database (embedded): at start, every TRAINING version was abandoned. */
  soleInstance: boolean;
  /** A click this soon after an impression of the same creative to the same learner makes the impression a positive. */
  ctrClickWindowMs: number;
  /** Generated sentences of a brand's NER training. */
  nerTrainingSentences?: number;
}

/** How long an active-version lookup is trusted without a signal (signals normally clear it at once). */
const ACTIVE_TTL_MS = 60_000;

/**
 * The model layer: the runtime (one execution provider for every session),
 * the registry, the bounded session cache, trainings in worker threads, and
 * serving. Services call it; it calls nothing above it. Activation on any
 * instance reaches this one through the signal bus and clears what it
 * cached for the brand.
 */
export class ModelLayer {
  readonly registry = new ModelRegistry();
  readonly cache: SessionCache<unknown>;
  readonly recommenders: RecommenderServing;
  readonly ctr: CtrServing;
  readonly ner: NerServing;
  private shippedTagger: DefaultTagger | null = null;
  readonly training: TrainingRuns;
  private readonly active = new Map<string, { row: ModelVersionRow | null; at: number }>();
  private readonly observers = new Set<(call: ModelCall) => void>();
  private readonly stopListening: () => void;
  private readonly sweeper: NodeJS.Timeout;

  private constructor(
    readonly runtime: ModelRuntime,
    private readonly pool: TrainerPool,
    deps: { runAs: RunInTenant; jobs: EnqueueJobs; bus: SignalBus; log: Logger; dataSource: DataSource },
    private readonly options: ModelLayerOptions,
  ) {
    this.cache = new SessionCache(options.cache);
    const observe = (call: ModelCall) => {
      deps.log.debug(call, 'model call');
      for (const observer of this.observers) observer(call);
    };
    this.recommenders = new RecommenderServing(runtime, this.cache, options.batching, observe);
    this.ctr = new CtrServing(runtime, this.cache, observe);
    this.ner = new NerServing(runtime, this.cache, observe);
    this.training = new TrainingRuns({
      runAs: deps.runAs,
      registry: this.registry,
      pool,
      trainers: {
        [ModelKind.RECOMMENDER]: trainRecommenderVersion,
        [ModelKind.CTR]: ctrTrainer(options.ctrClickWindowMs),
        [ModelKind.SEGMENTATION]: trainSegmentationVersion,
        [ModelKind.NER]: nerTrainer(options.nerTrainingSentences),
      },
      jobs: deps.jobs,
      provider: runtime.provider,
      log: deps.log,
      options: { heartbeatMs: Math.max(50, Math.floor(options.abandonedAfterMs / 4)), progressMs: 250 },
    });
    this.stopListening = deps.bus.listen((signals) => this.onSignals(signals));
    this.sweeper = setInterval(() => void this.sweep(deps, options.abandonedAfterMs), options.abandonedAfterMs);
    this.sweeper.unref();
  }

  /**
   * Opens the runtime on the configured device (DeviceError when an explicit
   * choice cannot serve) and fails trainings a stopped instance left behind.
   */
  static async open(
    options: ModelLayerOptions,
    deps: { runAs: RunInTenant; jobs: EnqueueJobs; bus: SignalBus; log: Logger; dataSource: DataSource },
  ): Promise<ModelLayer> {
    const runtime = await ModelRuntime.open(options.device);
    for (const skipped of runtime.skipped) deps.log.info(skipped, 'model runtime: execution provider not available');
    deps.log.info({ provider: runtime.provider, device: options.device }, 'model runtime ready');
    const layer = new ModelLayer(runtime, new TrainerPool({ concurrency: options.trainingConcurrency }), deps, options);
    await layer.sweep(deps, options.soleInstance ? 0 : options.abandonedAfterMs);
    return layer;
  }

  /** The provider every session runs on: cpu, webgpu or cuda. */
  get provider() {
    return this.runtime.provider;
  }

  /** The job handlers the layer's later work needs, by kind. */
  get handlers() {
    return { [TRAIN_JOB]: this.training.handler };
  }

  /** Watches every model call (tests, benchmarks); returns the way to stop. */
  observe(observer: (call: ModelCall) => void): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** The brand's active version of a kind, cached until a signal says it changed. */
  async activeVersion(ctx: TenantScope, kind: ModelKind): Promise<ModelVersionRow | null> {
    const key = `${ctx.brandId}:${kind}`;
    const cached = this.active.get(key);
    if (cached && Date.now() - cached.at < ACTIVE_TTL_MS) return cached.row;
    const row = await this.registry.active(ctx, kind);
    this.active.set(key, { row, at: Date.now() });
    return row;
  }

  /** A version to serve, read in `ctx`'s transaction when it is not loaded yet. */
  served(ctx: TenantScope, version: ModelVersionRow): ServedVersion {
    return { id: version.id, load: () => this.registry.artifact(ctx, version) };
  }

  /**
   * Runs `work` with a version; null when its artifact fails its check
   * (ModelIntegrityError): a damaged artifact is never served, the version
   * is forgotten by the caches and the caller falls back.
   */
  async withServed<T>(ctx: TenantScope, version: ModelVersionRow, work: (served: ServedVersion) => Promise<T>): Promise<T | null> {
    try {
      return await work(this.served(ctx, version));
    } catch (error) {
      if (!(error instanceof ModelIntegrityError)) throw error;
      await this.forget(ctx.brandId, version.id);
      return null;
    }
  }

  /** The demand tagger the package ships, for every brand without a NER model of its own (read once). */
  defaultTagger(): DefaultTagger {
    this.shippedTagger ??= readDefaultTagger();
    return this.shippedTagger;
  }

  /** Forgets a version that cannot be served (its artifact failed its check). */
  async forget(brandId: string, versionId: string): Promise<void> {
    for (const key of this.active.keys()) if (key.startsWith(`${brandId}:`)) this.active.delete(key);
    await this.cache.clear(versionId);
  }

  async close(): Promise<void> {
    this.stopListening();
    clearInterval(this.sweeper);
    await this.training.close();
    await this.pool.close();
    await this.cache.clear();
  }

  private onSignals(signals: Signal[]): void {
    for (const signal of signals) {
      if (signal.kind === 'resync') this.active.clear();
      else if (signal.kind === 'model') {
        for (const key of this.active.keys()) if (key.startsWith(`${signal.brandId}:`)) this.active.delete(key);
      }
    }
  }

  private async sweep(deps: { bus: SignalBus; log: Logger; dataSource: DataSource }, staleMs: number): Promise<void> {
    try {
      const failed = await failAbandonedTrainings(deps.dataSource, staleMs, TRAIN_JOB);
      if (failed.length === 0) return;
      deps.log.warn({ versions: failed }, 'abandoned trainings marked FAILED');
      deps.bus.publish(failed.map((f) => ({ kind: 'model' as const, ...f })));
    } catch (error) {
      deps.log.error({ err: error }, 'sweeping abandoned trainings failed');
    }
  }
}
