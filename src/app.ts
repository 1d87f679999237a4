import crypto from 'node:crypto';
import type { GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { StartupError, type Config } from './config';
import { createDataSource } from './db/data-source';
import type { Database } from './db/database';
import { JobRunner, type JobHandler } from './jobs/runner';
import { JobQueue } from './jobs/queue';
import { Admission } from './limits/admission';
import type { OperationLimits } from './limits/budget';
import { CredentialThrottle, MemoryFailureStore, PostgresFailureStore } from './limits/credential-throttle';
import { OperationGuard } from './limits/guard';
import { MAX_PAGE } from './limits/pages';
import { ModelLayer } from './ml/layer';
import { DeviceError } from './ml/runtime/runtime';
import { LiveHub, type LiveReads } from './realtime/live';
import type { SignalBus } from './realtime/signal';
import { InProcessBus, PostgresBus } from './realtime/signals';
import { TrackingTokens } from './mail/tokens';
import { OutboxMailer, SmtpMailer } from './mail/transport';
import { buildAlliedSchema } from './resolvers';
import { buildServices, type Services } from './services';
import { MAX_EVENTS_PER_CALL } from './services/event-rules';
import { MAX_SERIES_POINTS } from './services/metrics.service';
import { Authenticator, developmentSecret, resolveJwtKeys } from './tenancy/credentials';
import { tenantEntry, type ContextFactory, type RunAs } from './tenancy/run-as';
import { Telemetry } from './telemetry';

/**
 * The application: every long-lived part, built from configuration in one
 * place and handed its dependencies. HTTP and WebSocket wiring
 * (src/server.ts) and the routes take what they need from here.
 */
export interface App {
  readonly config: Config;
  readonly log: Logger;
  readonly database: Database;
  /** Change signals between instances (LISTEN/NOTIFY on PostgreSQL, in memory on the embedded database). */
  readonly signals: SignalBus;
  /** This instance's live subscriptions. */
  readonly live: LiveHub;
  readonly services: Services;
  /** The model layer: runtime, registry, session cache, trainings, serving. */
  readonly models: ModelLayer;
  /** The one way into a tenant (src/tenancy/run-as.ts). */
  readonly runAs: RunAs;
  /** A context for work that `runIn` then runs (a WebSocket operation's, built before it runs). */
  readonly newContext: ContextFactory;
  readonly schema: GraphQLSchema;
  readonly guard: OperationGuard;
  readonly authenticator: Authenticator;
  /** This instance's job worker (src/jobs): drains the outbox with every other instance. */
  readonly jobs: JobRunner;
  /** This instance's mail sender (the `mail.send` jobs). */
  readonly mailJobs: JobRunner;
  /** Where services enqueue later work (the same one they were built with). */
  readonly queue: JobQueue;
  /** What one GraphQL operation may spend. */
  readonly operationLimits: OperationLimits;
  /** Prometheus metrics of this instance (GET /metrics). */
  readonly telemetry: Telemetry;
  /** Stops what the application started, in the reverse order; the database stays open (its opener closes it). */
  stop(): Promise<void>;
}

/** Builds the application on an open database. */
export async function createApp(config: Config, database: Database, log: Logger): Promise<App> {
  const { limits } = config;
  const { dataSource } = database;
  const stops: (() => Promise<void> | void)[] = [];
  try {
    const signals = await openSignals(config, database, log);
    stops.push(() => signals.close());
    const pool = admission(config, database);
    const { runAs, newContext } = tenantEntry(dataSource, log, { bus: signals, admission: pool });
    const queue = new JobQueue();
    const models = await openModels(config, database, { runAs, jobs: queue, bus: signals, log });
    stops.push(() => models.close());
    const mailer = config.mail.smtpUrl ? new SmtpMailer(config.mail.smtpUrl, config.mail.concurrency) : new OutboxMailer();
    stops.push(() => mailer.close());
    const trackingSecret = config.mail.trackingSecret ?? developmentSecret(config.dataDir, 'tracking-secret');
    const apiKeyHashKey = apiKeyKey(config, trackingSecret);
    const services = buildServices({
      runAs,
      jobs: queue,
      models,
      ctrExplorationShare: config.ml.ctrExplorationPercent / 100,
      mail: {
        mailer,
        tokens: new TrackingTokens(trackingSecret),
        from: config.mail.from,
        publicUrl: config.mail.publicUrl,
        linkTtlDays: config.mail.linkTtlDays,
        maxAttempts: config.mail.maxAttempts,
        journeyTickSeconds: config.mail.journeyTickSeconds,
      },
      // Member codes are kept as an HMAC under a key of their own, derived from the tracking secret.
      loyaltyCodeKey: crypto.createHmac('sha256', trackingSecret).update('allied loyalty member codes').digest(),
      apiKeyHashKey,
      loyaltyCodeFailures: { perMinute: config.limits.loyaltyCodeFailuresPerMinute, burst: config.limits.loyaltyCodeFailuresBurst },
    });

    const livePool = await liveDataSource(config, database);
    if (livePool !== dataSource) stops.push(() => livePool.destroy());
    const live = new LiveHub(tenantEntry(livePool, log).runAs, liveReads(services), signals, log, {
      perConnection: limits.subscriptionsPerConnection,
      perBrand: limits.subscriptionsPerBrand,
      minIntervalMs: 1000,
      refreshMs: 30_000,
    });
    stops.push(() => live.close());

    const throttle = new CredentialThrottle(
      database.kind === 'embedded' ? new MemoryFailureStore() : new PostgresFailureStore(dataSource),
      limits.credentialFailures,
      limits.credentialWindowSeconds,
    );
    const authenticator = new Authenticator(resolveJwtKeys(config), runAs, {
      maxTokenTtlSeconds: limits.maxTokenTtlSeconds,
      throttle,
      brandExists: (brandId) => brandExists(dataSource, brandId),
      apiKeyHashKey,
    });

    // Each feature that runs later work registers its handlers here, by job kind.
    const handlers: Record<string, JobHandler> = { ...models.handlers, ...services.demands.handlers, ...services.journeys.handlers };
    const jobs = new JobRunner(dataSource, log, handlers, { runAs, leaseMs: config.jobLeaseSeconds * 1000 });
    // Sending has runners of its own, so a backlog of mail never waits behind training or extraction (nor the reverse).
    const mailJobs = new JobRunner(dataSource, log, services.delivery.handlers, {
      runAs,
      leaseMs: config.jobLeaseSeconds * 1000,
      concurrency: database.kind === 'embedded' ? 1 : config.mail.concurrency,
      backoff: { baseMs: config.mail.retryBaseMs, maxMs: 300_000 },
    });
    queue.attach({ wake: () => (jobs.wake(), mailJobs.wake()) });
    jobs.start();
    mailJobs.start();
    stops.push(() => jobs.stop());
    stops.push(() => mailJobs.stop());

    const telemetry = new Telemetry({ dataSource, admission: pool, live, models });
    stops.push(() => telemetry.stop());

    let stopping: Promise<void> | undefined;
    return {
      config,
      log,
      database,
      signals,
      live,
      services,
      models,
      runAs,
      newContext,
      schema: await buildAlliedSchema(services),
      guard: new OperationGuard(limits, { maxPage: MAX_PAGE, maxSeriesPoints: MAX_SERIES_POINTS }),
      authenticator,
      jobs,
      mailJobs,
      queue,
      operationLimits: { maxObjects: limits.maxCost, maxEvents: MAX_EVENTS_PER_CALL },
      telemetry,
      stop: () => (stopping ??= stopInOrder(stops)),
    };
  } catch (error) {
    await stopInOrder(stops);
    throw error;
  }
}

/**
 * The key API keys are stored under: ALLIED_API_KEY_SECRET, else one derived
 * from the tracking secret. Changing it makes every existing API key invalid.
 */
function apiKeyKey(config: Config, trackingSecret: string): Buffer {
  const secret = config.apiKeySecret ?? trackingSecret;
  return crypto.createHmac('sha256', secret).update('allied api key hashes').digest();
}

async function stopInOrder(stops: (() => Promise<void> | void)[]): Promise<void> {
  for (const stop of stops.splice(0).reverse()) await stop();
}

/** Fair shares of the pool per brand: the embedded database is one connection, PostgreSQL has the configured pool. */
function admission(config: Config, database: Database): Admission {
  const { limits } = config;
  const capacity = database.kind === 'embedded' ? 1 : config.databasePoolSize;
  return new Admission({
    capacity,
    perKey: Math.max(1, Math.floor((capacity * limits.poolSharePercent) / 100)),
    waitMs: limits.poolWaitMs,
    queuePerKey: 100,
    statementTimeoutMs: limits.statementTimeoutMs,
    operationTimeoutMs: limits.operationTimeoutMs,
  });
}

function databaseUrl(config: Config, database: Database): string | undefined {
  return config.databaseUrl ?? (database.dataSource.options as { url?: string }).url;
}

/** LISTEN/NOTIFY when several instances may share the database (PostgreSQL); in memory on the embedded one. */
async function openSignals(config: Config, database: Database, log: Logger): Promise<SignalBus> {
  const url = databaseUrl(config, database);
  if (database.kind === 'embedded' || !url) return new InProcessBus();
  const bus = new PostgresBus(url, database.dataSource, log);
  await bus.start();
  return bus;
}

/**
 * Connections of the live hub's own pool on PostgreSQL. A snapshot is a
 * tenant transaction of two round trips (begin, tenant set-up and the
 * figures together; commit), each waiting a turn of an event loop that also
 * writes thousands of WebSocket messages a second; four connections keep 100
 * changed scopes a second within the delay target while leaving ingestion
 * its share of the machine (bench/RESULTS.md, subscriptions).
 */
const LIVE_POOL_SIZE = 4;

/** On PostgreSQL, a few connections of their own for computing live snapshots; the application's on the embedded database. */
async function liveDataSource(config: Config, database: Database): Promise<DataSource> {
  const url = databaseUrl(config, database);
  if (database.kind === 'embedded' || !url) return database.dataSource;
  const dataSource = createDataSource(url, LIVE_POOL_SIZE, 'allied-live-metrics');
  await dataSource.initialize();
  // Idle connections the server ends are replaced on next use; never fatal.
  (dataSource.driver as unknown as { master?: { on(event: 'error', fn: () => void): void } }).master?.on('error', () => undefined);
  return dataSource;
}

/** The model layer on the configured device; a device that cannot serve stops start-up naming ALLIED_ML_DEVICE. */
async function openModels(config: Config, database: Database, deps: { runAs: RunAs; jobs: JobQueue; bus: SignalBus; log: Logger }): Promise<ModelLayer> {
  const { ml } = config;
  try {
    return await ModelLayer.open(
      {
        device: ml.device,
        cache: { maxModels: ml.cacheModels, maxBytes: ml.cacheMegabytes * 1024 * 1024 },
        batching: { windowMs: ml.batchWindowMs, maxBatch: ml.maxBatch },
        trainingConcurrency: ml.trainingConcurrency,
        abandonedAfterMs: 60_000,
        soleInstance: database.kind === 'embedded',
        ctrClickWindowMs: ml.ctrClickWindowMinutes * 60_000,
        nerTrainingSentences: ml.nerTrainingSentences,
      },
      { ...deps, dataSource: database.dataSource },
    );
  } catch (error) {
    if (error instanceof DeviceError) throw new StartupError('ALLIED_ML_DEVICE', error.message);
    throw error;
  }
}

function liveReads(services: Services): LiveReads {
  return {
    snapshot: (ctx, window, allianceId) => services.metrics.liveSnapshot(ctx, window, allianceId),
    activeMemberIds: (ctx, allianceId) => services.alliances.activeMemberIds(ctx, allianceId),
    settlement: (ctx, id) => services.settlements.get(ctx, id),
    modelVersion: (ctx, id) => services.models.get(ctx, id),
    loyaltyMember: (ctx, id) => services.loyalty.memberById(ctx, id),
  };
}

async function brandExists(dataSource: DataSource, brandId: string): Promise<boolean> {
  return (await dataSource.query(`select 1 from brands where id = $1`, [brandId])).length > 0;
}
