import { monitorEventLoopDelay } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { Admission } from './limits/admission';
import type { ModelLayer } from './ml/layer';
import type { LiveHub } from './realtime/live';

/** Seconds: from a fast read (a few ms) to the operation time-out. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024];

/**
 * Operation names come from clients: a label per name would let any client
 * grow the registry without bound. The first `MAX_OPERATION_NAMES` distinct
 * names are kept; later ones, and unnamed operations, are counted together.
 */
const MAX_OPERATION_NAMES = 200;
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** What the process is made of that /metrics reads when scraped. */
export interface TelemetrySources {
  dataSource: DataSource;
  admission: Admission;
  live: LiveHub;
  models: ModelLayer;
  /** Open WebSocket connections (set once the server listens). */
  webSockets?: () => number;
}

/**
 * Allied's Prometheus metrics (GET /metrics): HTTP and GraphQL traffic by
 * route and operation name (never by variables), error codes, the database
 * pool, subscriptions, job queues, model inference, the event loop and the
 * heap. Built by the composition root; the server records into it.
 */
export class Telemetry {
  readonly registry = new Registry();
  private readonly names = new Set<string>();
  private readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  private readonly httpSeconds: Histogram<'method' | 'route'>;
  private readonly httpInFlight: Gauge;
  private readonly operations: Counter<'operation' | 'type' | 'transport' | 'outcome'>;
  private readonly operationSeconds: Histogram<'operation' | 'type' | 'transport'>;
  private readonly errors: Counter<'code'>;
  private readonly poolWait: Histogram;
  private readonly poolRefusals: Counter<'reason'>;
  private readonly inference: Histogram<'kind'>;
  private readonly batchSize: Histogram<'kind'>;
  private stopModels: (() => void) | undefined;
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });

  constructor(private readonly sources: TelemetrySources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({ name: 'allied_http_requests_total', help: 'HTTP requests answered, by route, method and status.', labelNames: ['method', 'route', 'status'], registers });
    this.httpInFlight = new Gauge({ name: 'allied_http_requests_in_flight', help: 'HTTP requests received and not yet answered (or abandoned).', registers });
    this.httpSeconds = new Histogram({ name: 'allied_http_request_duration_seconds', help: 'HTTP request duration, by route and method.', labelNames: ['method', 'route'], buckets: LATENCY_BUCKETS, registers });
    this.operations = new Counter({
      name: 'allied_graphql_operations_total',
      help: 'GraphQL operations run, by operation name, type, transport (http, ws) and outcome (ok, error).',
      labelNames: ['operation', 'type', 'transport', 'outcome'],
      registers,
    });
    this.operationSeconds = new Histogram({
      name: 'allied_graphql_operation_duration_seconds',
      help: 'GraphQL operation duration (queries and mutations), by operation name, type and transport.',
      labelNames: ['operation', 'type', 'transport'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.errors = new Counter({ name: 'allied_graphql_errors_total', help: 'Errors in GraphQL responses, by contract code.', labelNames: ['code'], registers });
    this.poolWait = new Histogram({ name: 'allied_db_pool_wait_seconds', help: 'Wait for a database connection before an operation ran.', buckets: WAIT_BUCKETS, registers });
    this.poolRefusals = new Counter({
      name: 'allied_db_pool_refusals_total',
      help: 'Operations refused (503) because the pool stayed full: their brand queue was full, or the wait ran out.',
      labelNames: ['reason'],
      registers,
    });
    this.inference = new Histogram({ name: 'allied_model_inference_seconds', help: 'One model call (a batch), by model kind.', labelNames: ['kind'], buckets: LATENCY_BUCKETS, registers });
    this.batchSize = new Histogram({ name: 'allied_model_batch_size', help: 'Inputs per model call, by model kind.', labelNames: ['kind'], buckets: BATCH_BUCKETS, registers });
    this.scraped();
    sources.admission.observe({ waited: (ms) => this.poolWait.observe(ms / 1000), refused: (reason) => this.poolRefusals.inc({ reason }) });
    this.stopModels = sources.models.observe((call) => {
      this.inference.observe({ kind: call.kind }, call.ms / 1000);
      this.batchSize.observe({ kind: call.kind }, call.batch);
    });
    this.loopDelay.enable();
  }

  /** Gauges read when /metrics is scraped. */
  private scraped(): void {
    const registers = [this.registry];
    const { admission, live, dataSource } = this.sources;
    new Gauge({ name: 'allied_db_pool_in_use', help: 'Database connections held by operations now.', registers, collect() { this.set(admission.inUse); } });
    new Gauge({ name: 'allied_db_pool_waiting', help: 'Operations waiting for a database connection now.', registers, collect() { this.set(admission.waiting); } });
    new Gauge({ name: 'allied_db_pool_size', help: 'Database connections operations may hold at once.', registers, collect() { this.set(admission.options.capacity); } });
    new Gauge({ name: 'allied_subscriptions', help: 'Live subscriptions held by this instance.', registers, collect() { this.set(live.held); } });
    const sockets = () => this.sources.webSockets?.() ?? 0;
    new Gauge({ name: 'allied_websocket_connections', help: 'Open WebSocket connections.', registers, collect() { this.set(sockets()); } });
    const loop = this.loopDelay;
    new Gauge({
      name: 'allied_event_loop_delay_p99_seconds',
      help: 'The 99th percentile of event-loop delay since the previous scrape.',
      registers,
      collect() {
        this.set(loop.percentile(99) / 1e9);
        loop.reset();
      },
    });
    // One statement for both job gauges, read once per scrape; a database
    // that does not answer leaves them without samples, never fails the scrape.
    let reading: Promise<void> | undefined;
    const readJobs = () =>
      (reading ??= jobFigures(dataSource)
        .then(
          (rows) => {
            depth.reset();
            age.reset();
            for (const row of rows) {
              depth.set({ kind: row.kind, state: 'pending' }, row.pending);
              depth.set({ kind: row.kind, state: 'running' }, row.running);
              age.set({ kind: row.kind }, row.oldestDueSeconds);
            }
          },
          () => {
            depth.reset();
            age.reset();
          },
        )
        .finally(() => (reading = undefined)));
    const depth = new Gauge({ name: 'allied_jobs', help: 'Jobs pending (due or not) and running, by kind and state.', labelNames: ['kind', 'state'], registers, collect: readJobs });
    const age = new Gauge({ name: 'allied_jobs_oldest_due_seconds', help: 'How long the oldest due pending job of each kind has waited.', labelNames: ['kind'], registers, collect: readJobs });
  }

  /** Where the open WebSocket connections are counted (the server, once it listens). */
  countWebSockets(count: () => number): void {
    this.sources.webSockets = count;
  }

  /** An HTTP request received; `done` once it is answered or its client gone. */
  requestStarted(): { done(): void } {
    this.httpInFlight.inc();
    let open = true;
    return {
      done: () => {
        if (open) this.httpInFlight.dec();
        open = false;
      },
    };
  }

  /** An HTTP request answered. */
  request(method: string, path: string, status: number, seconds: number): void {
    const route = routeOf(path);
    this.httpRequests.inc({ method, route, status: String(status) });
    this.httpSeconds.observe({ method, route }, seconds);
  }

  /** A GraphQL operation finished; `codes` are its errors' codes. */
  operation(name: string | null | undefined, type: string, transport: 'http' | 'ws', seconds: number, codes: readonly string[]): void {
    const operation = this.nameOf(name);
    this.operations.inc({ operation, type, transport, outcome: codes.length ? 'error' : 'ok' });
    if (type !== 'subscription') this.operationSeconds.observe({ operation, type, transport }, seconds);
    for (const code of codes) this.errors.inc({ code });
  }

  /** The label an operation is counted under. */
  nameOf(name: string | null | undefined): string {
    if (!name || !NAME.test(name)) return '(anonymous)';
    if (this.names.has(name)) return name;
    if (this.names.size >= MAX_OPERATION_NAMES) return '(other)';
    this.names.add(name);
    return name;
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  stop(): void {
    this.stopModels?.();
    this.stopModels = undefined;
    this.loopDelay.disable();
    this.registry.clear();
  }
}

/** Routes as a bounded set: tracking and unsubscribe tokens, ids and file names never become labels. */
function routeOf(path: string): string {
  if (path === '/graphql' || path === '/ingest' || path === '/healthz' || path === '/readyz' || path === '/metrics') return path;
  if (path.startsWith('/t/o/')) return '/t/o/:token';
  if (path.startsWith('/t/c/')) return '/t/c/:token';
  if (path.startsWith('/u/')) return '/u/:token';
  if (path.startsWith('/exports/')) return '/exports/*';
  if (path.startsWith('/dashboard')) return '/dashboard';
  if (path.startsWith('/outbox')) return '/outbox';
  return 'other';
}

interface JobFigure {
  kind: string;
  pending: number;
  running: number;
  oldestDueSeconds: number;
}

/**
 * Pending and running jobs of every brand (the owner's connection; no tenant), by kind. Each half reads its
 * partial index (jobs_due, jobs_leased), never the done and dead jobs; at most `timeoutMs`.
 */
async function jobFigures(dataSource: DataSource, timeoutMs = 2000): Promise<JobFigure[]> {
  const query: Promise<{ kind: string; state: string; jobs: string; oldest: number | null }[]> = dataSource.query(
    `select kind, 'PENDING' as state, count(*) as jobs,
            extract(epoch from now() - min(run_at) filter (where run_at <= now()))::float8 as oldest
       from jobs where state = 'PENDING' and run_at >= '-infinity' group by kind
     union all
     select kind, 'RUNNING', count(*), null
       from jobs where state = 'RUNNING' and leased_until >= '-infinity' group by kind`,
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('jobs not read in time')), timeoutMs)));
  const rows = await Promise.race([query, late]).finally(() => clearTimeout(timer));
  const byKind = new Map<string, JobFigure>();
  for (const row of rows) {
    const figure = byKind.get(row.kind) ?? { kind: row.kind, pending: 0, running: 0, oldestDueSeconds: 0 };
    if (row.state === 'PENDING') {
      figure.pending = Number(row.jobs);
      figure.oldestDueSeconds = row.oldest ?? 0;
    } else figure.running = Number(row.jobs);
    byKind.set(row.kind, figure);
  }
  return [...byKind.values()];
}
