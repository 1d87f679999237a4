/**
 * The model layer's CPU performance on this machine, on PostgreSQL, with
 * the synthetic brand of bench/ml/synthetic.ts (seeded; 2,000 learners ×
 * 500 courses, ~100,000 events), created and ingested through the API as
 * bench/ml/api.ts does. In one process with the server (as bench/catalog.ts
 * runs it), models on the CPU (ALLIED_ML_DEVICE=cpu):
 *
 * 1. training: trainModel(RECOMMENDER) → READY on an idle server;
 * 2. catalog reads under training: `courses(first: 50)` req/s with
 *    autocannon (32 connections) on an idle server, then while trainings
 *    run back to back (each started as soon as the previous is READY), with
 *    the share of the window a training was TRAINING;
 * 3. recommendCourses for one learner with 10,000 courses in the database
 *    (9,500 PUBLISHED courses added to the same brand by SQL, without
 *    events, so the served model still ranks the 500 with interactions):
 *    over HTTP under autocannon (32 connections), the service call
 *    in-process under 32 concurrent callers, and the model call alone;
 * 4. one batched model call for 256 learners (`recommenders.rank` with 256
 *    requests, median of 50) and the whole GraphQL request for 256
 *    learners' recommendations (MAX_PAGE is 100: three aliased pages of
 *    100 + 100 + 56 in one request); also a model of 10,000 courses with
 *    random weights, for how the model call scales with the catalog;
 * 5. the session cache's memory with 1,000 brands' models (200 learners ×
 *    100 courses × 32 factors each, random weights, graphs built with
 *    recommenderGraph and served through RecommenderServing, so each is
 *    loaded into a SessionCache by ModelRuntime.open('cpu') as the server
 *    loads a version): RSS before and after, per model, the cache's own
 *    byte count; then with the cache bounded (256 models) while 1,000 are
 *    cycled through three times. Each in a child process of its own, so
 *    its RSS is the cache's alone.
 *
 * Writes perf.json into BENCH_ML_OUT; `node dist/bench/ml/perf.js report
 * DIR` writes the "## Model layer (bench/run-ml.sh)" section of
 * bench/RESULTS.md from DIR's api.json and perf.json. Run it with
 * bench/run-ml.sh. BENCH_DATABASE_URL (required), BENCH_SEED (1),
 * BENCH_DURATION (10 s of each autocannon load), BENCH_CONNECTIONS (32).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import pg from 'pg';
import { ModelKind, RecommendationScope } from '../../src/entities/enums';
import { recommenderGraph, type FactorModel } from '../../src/ml/onnx/recommender';
import type { ModelCall, RecommenderMeta } from '../../src/ml/recommend/serving';
import { RecommenderServing } from '../../src/ml/recommend/serving';
import { SessionCache } from '../../src/ml/runtime/cache';
import { ModelRuntime, type ModelSession } from '../../src/ml/runtime/runtime';
import { Random } from '../../src/ml/train/random';
import { RECOMMENDER_TOP } from '../../src/ml/recommend/trainer';
import { Principal } from '../../src/tenancy/principal';
import { graphql, machine, median, nonNegativeInt, now, positiveInt, readSection, withClient, writeSection } from '../support';
import {
  createBrand,
  ingestEvents,
  learnerIds,
  log,
  sleep,
  startBenchServer,
  startTraining,
  trainUntilReady,
  versionOf,
  waitReady,
  type ApiResults,
  type BenchBrand,
  type BenchServer,
} from './api';
import { generateBrand } from './synthetic';

const SECTION = 'Model layer (bench/run-ml.sh)';
const CATALOG_QUERY = '{ courses(first: 50) { edges { node { id title price { amountMinor currency } owner { name } } } } }';
const RECOMMEND_QUERY = 'query($id: ID!) { recommendCourses(learnerId: $id, first: 10, scope: OWN) { course { id } score reason explanation } }';
const TOTAL_COURSES = 10_000;
const CACHE_BRANDS = 1000;
const CACHE_SHAPE = { learners: 200, items: 100, factors: 32 };
const CACHE_BOUND = 256;
const CACHE_ROUNDS = 3;

// --- what one run measures ------------------------------------------------------------------------

interface Load {
  requests: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  failures: number;
  mismatches: number;
}

interface Latencies {
  count: number;
  perSecond?: number;
  p50: number;
  p99: number;
  max: number;
}

interface CatalogWindow {
  kind: 'idle' | 'training';
  load: Load;
  /** CPU seconds of this process (server, its training worker, autocannon's worker) in the window. */
  processCpu: number;
  /** Share of the whole machine's CPU time that was busy in the window (/proc/stat). */
  machineBusy: number;
  /** Share of the window during which a training was TRAINING. */
  coverage: number;
  trainings: { wallMs: number; trainingMs: number }[];
}

interface CacheRun {
  mode: 'unbounded' | 'bounded';
  models: number;
  loads: number;
  evictions: number;
  maxModels: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  /** Highest RSS sampled every 100 loads (no GC forced). */
  rssPeakMiB: number;
  /** Highest RSS right after a forced GC (end of each round): what the live models and their sessions hold. */
  rssPeakAfterGcMiB: number;
  perModelKiB: number;
  cacheMiB: number;
  cacheSize: number;
  heapUsedMiB: number;
  externalMiB: number;
  threadsBefore: number;
  threadsAfter: number;
  artifactBytes: number;
  seconds: number;
  /** RSS (MiB) after each round of CACHE_BRANDS loads, after a forced GC. */
  samples: number[];
  /** RSS (MiB) after every 100 loads, no GC forced. */
  rawSamples: number[];
}

export interface PerfResults {
  date: string;
  code?: string;
  codeTag?: string;
  machine: string;
  seed: number;
  events: number;
  connections: number;
  duration: number;
  ingest: { events: number; seconds: number };
  training: { wallMs: number; trainingMs: number; interactions: number; algorithm: string; device: string };
  catalog: CatalogWindow[];
  courses: number;
  recommend: {
    http: Load;
    httpCpu: { processCpu: number; machineBusy: number };
    /** One request at a time over HTTP (fetch, timed here to the microsecond), its SQL (statements and busy ms a request) and this process's CPU ms a request. */
    single: Latencies & { sqlStatements: number; sqlMs: number; cpuMs: number };
    /** forLearner in-process, one call at a time. */
    serviceSingle: Latencies;
    httpCalls: { calls: number; meanBatch: number; maxBatch: number };
    service: Latencies & { calls: number; meanBatch: number; maxBatch: number; modelP50: number; modelP99: number };
    modelAlone: { session: Latencies; rank: Latencies };
  };
  batch: {
    sqlStatements: number;
    sqlMs: number;
    /** This process's CPU time a request (server, ONNX Runtime, the client's fetch). */
    cpuMs: number;
    modelMs: number;
    modelP90: number;
    rankMs: number;
    batchSizes: number[];
    graphqlMs: number;
    graphqlP90: number;
    graphqlCalls: string;
    graphqlModelMs: number;
    runs: number;
    graphqlRuns: number;
  };
  bigModel: { items: number; learners: number; factors: number; single: Latencies; batchMs: number; bytes: number };
  cache: CacheRun[];
}

// --- helpers ------------------------------------------------------------------------------------

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

function latencies(values: number[], seconds?: number): Latencies {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: values.length,
    ...(seconds ? { perSecond: values.length / seconds } : {}),
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

/** autocannon against the server, in a worker thread (as bench/catalog.ts does). */
async function loadServer(
  url: string,
  token: string,
  body: string,
  seconds: number,
  warmup: number,
  connections: number,
  expectBody?: string,
  beforeMeasuring?: () => void,
): Promise<Load> {
  const options = {
    url,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
    connections,
    workers: 1,
  };
  if (warmup > 0) await autocannon({ ...options, duration: warmup });
  beforeMeasuring?.();
  const result = await autocannon({ ...options, duration: seconds, ...(expectBody ? { expectBody } : {}) });
  return {
    requests: result.requests.total,
    seconds: result.duration,
    perSecond: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.errors + result.timeouts + result.non2xx,
    mismatches: result.mismatches,
  };
}

/** One POST with its exact body text, for autocannon's expectBody. */
async function bodyOf(url: string, token: string, body: string): Promise<string> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
  const text = await res.text();
  if (res.status !== 200 || JSON.parse(text).errors) throw new Error(`request failed (${res.status}): ${text.slice(0, 500)}`);
  return text;
}

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** The whole machine's CPU ticks: busy and total (/proc/stat's first line). */
function machineTicks(): { busy: number; total: number } {
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - fields[3] - fields[4], total };
}

/** CPU used from now (or from the last reset): this process's seconds and the machine's busy share. */
function cpuNow() {
  let process0 = cpuSeconds();
  let machine0 = machineTicks();
  return {
    reset() {
      process0 = cpuSeconds();
      machine0 = machineTicks();
    },
    since() {
      const m = machineTicks();
      return { processCpu: cpuSeconds() - process0, machineBusy: (m.busy - machine0.busy) / Math.max(1, m.total - machine0.total) };
    },
  };
}

/**
 * SQL the server sends while `sql.on`: statements through pg's Client#query,
 * each from when its connection starts on it (sent, or the connection's
 * previous statement done) to its result reaching JavaScript, so a busy
 * event loop lengthens it. The server runs in this process.
 */
const sql = { on: false, count: 0, spans: [] as [number, number][] };
const lastEnd = new WeakMap<object, number>();
function timeSql(): void {
  const original = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    if (!sql.on) return original.apply(this, args);
    const t = performance.now();
    sql.count++;
    // A client runs its statements one after another: a queued statement starts when the one before it ends.
    const done = () => {
      const end = performance.now();
      sql.spans.push([Math.max(t, lastEnd.get(this) ?? t), end]);
      lastEnd.set(this, end);
    };
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      args[args.length - 1] = function (this: unknown, ...r: unknown[]) {
        done();
        return (last as (...a: unknown[]) => unknown).apply(this, r);
      };
      return original.apply(this, args);
    }
    const result = original.apply(this, args) as { then?: (a: () => void, b: () => void) => void } | undefined;
    if (result && typeof result.then === 'function') result.then(done, done);
    return result;
  } as typeof pg.Client.prototype.query;
}

function startSql(): void {
  Object.assign(sql, { on: true, count: 0, spans: [] });
}

/** Stops counting: statements sent, and the time the connections were busy with them (the sum of their spans), in ms. */
function stopSql(): { count: number; ms: number } {
  sql.on = false;
  return { count: sql.count, ms: sql.spans.reduce((total, [from, to]) => total + (to - from), 0) };
}

const describe = (l: Load) => `${l.perSecond.toFixed(0)} req/s, p50 ${l.p50} ms, p99 ${l.p99} ms (${l.requests} in ${l.seconds.toFixed(1)} s, ${l.failures} failed, ${l.mismatches} different bodies)`;

// --- the performance run -----------------------------------------------------------------------------

async function perf(): Promise<void> {
  const adminUrl = process.env.BENCH_DATABASE_URL;
  if (!adminUrl) throw new Error('BENCH_DATABASE_URL is required (a PostgreSQL role that may create databases); see bench/run-ml.sh.');
  process.env.NODE_ENV ??= 'production';
  const seed = nonNegativeInt('BENCH_SEED', 1);
  const duration = positiveInt('BENCH_DURATION', 10);
  const connections = positiveInt('BENCH_CONNECTIONS', 32);
  const out = process.env.BENCH_ML_OUT ?? fs.mkdtempSync(path.join(os.tmpdir(), 'allied-ml-'));
  fs.mkdirSync(out, { recursive: true });

  const synthetic = generateBrand({ seed });
  const bench = await startBenchServer(adminUrl);
  let results: Omit<PerfResults, 'cache'>;
  try {
    results = await measureServer(bench, synthetic, { seed, duration, connections });
  } finally {
    await bench.close();
  }
  log('server stopped; session cache memory, each in a child process of its own');
  const cache = [cacheInChild('unbounded'), cacheInChild('bounded')];
  // The code measured, read when the measuring ended (another change may land before the report).
  const all: PerfResults = { ...results, cache, code: codeState(), codeTag: codeTag() };
  fs.writeFileSync(path.join(out, 'perf.json'), JSON.stringify(all, null, 2));
  log(`results in ${path.join(out, 'perf.json')}`);
}

async function measureServer(
  bench: BenchServer,
  synthetic: ReturnType<typeof generateBrand>,
  opts: { seed: number; duration: number; connections: number },
): Promise<Omit<PerfResults, 'cache'>> {
  const { duration, connections } = opts;
  const app = bench.server.app;
  timeSql();
  let recording: ModelCall[] | null = null;
  app.models.observe((call) => recording?.push(call));

  log(`server at ${bench.url}; brand with ${synthetic.courses.length} courses and ${synthetic.events.length} events through the API`);
  const brand = await createBrand(bench, 'Synthetic Academy', synthetic);
  const ingest = await ingestEvents(bench, brand, synthetic.events);
  log(`ingested ${ingest.events} events in ${ingest.seconds.toFixed(1)} s`);

  // 1. Training on an idle server.
  const first = await trainUntilReady(bench, brand);
  const training = {
    wallMs: first.wallMs,
    trainingMs: first.metrics?.trainingMs,
    interactions: first.metrics?.interactions,
    algorithm: first.metrics?.algorithm,
    device: first.device,
  };
  log(`training on an idle server: trainModel → READY ${(training.wallMs / 1000).toFixed(1)} s (trainingMs ${training.trainingMs}, ${training.interactions} interactions)`);

  // 2. Catalog reads, idle and under training, alternating (idle, training, idle, training): one window of each is within run-to-run noise.
  const catalogBody = JSON.stringify({ query: CATALOG_QUERY });
  const expected = await bodyOf(bench.url, brand.owner, catalogBody);
  const windows: CatalogWindow[] = [];
  for (const kind of ['idle', 'training', 'idle', 'training'] as const) {
    const warmup = windows.length === 0 ? 3 : 0;
    if (kind === 'idle') {
      const cpu = cpuNow();
      const load = await loadServer(bench.url, brand.owner, catalogBody, duration, warmup, connections, expected, () => cpu.reset());
      windows.push({ kind, load, ...cpu.since(), coverage: 0, trainings: [] });
    } else {
      const intervals: { from: number; to: number }[] = [];
      const trainings: { wallMs: number; trainingMs: number }[] = [];
      let stop = false;
      const firstTraining = await startTraining(bench, brand);
      const trainer = (async () => {
        let started = firstTraining;
        for (;;) {
          const ready = await waitReady(bench, brand, started, 100);
          intervals.push({ from: started.sentAt, to: started.sentAt + ready.wallMs });
          trainings.push({ wallMs: ready.wallMs, trainingMs: ready.metrics?.trainingMs });
          if (stop) return;
          started = await startTraining(bench, brand);
        }
      })();
      // An error is rethrown where the loop is awaited, not left unhandled meanwhile.
      trainer.catch(() => undefined);
      // Let the training get past reading its events (a short SQL read) into the worker before measuring.
      for (;;) {
        const v = await versionOf(bench, brand, firstTraining.id);
        if (v.status !== 'TRAINING' || v.progress > 0 || intervals.length) break;
        await sleep(100);
      }
      const cpu = cpuNow();
      const windowFrom = performance.now();
      const load = await loadServer(bench.url, brand.owner, catalogBody, duration, 0, connections, expected);
      const windowTo = performance.now();
      const used = cpu.since();
      stop = true;
      await trainer;
      let covered = 0;
      for (const i of intervals) covered += Math.max(0, Math.min(windowTo, i.to) - Math.max(windowFrom, i.from));
      windows.push({ kind, load, ...used, coverage: covered / (windowTo - windowFrom), trainings });
    }
    const w = windows[windows.length - 1];
    log(
      `catalog, ${kind}: ${describe(w.load)}; machine busy ${(100 * w.machineBusy).toFixed(0)}%, this process ${f1(w.processCpu)} s CPU` +
        (kind === 'training' ? `; a training was TRAINING ${(100 * w.coverage).toFixed(0)}% of the window (${w.trainings.map((t) => f1(t.wallMs / 1000)).join(', ')} s each)` : ''),
    );
  }

  // 3. recommendCourses with 10,000 courses in the database.
  const added = TOTAL_COURSES - synthetic.courses.length;
  await withClient(bench.databaseUrl, async (c) => {
    await c.query(
      `insert into courses (tenant_id, id, title, description, topics, level, format, price_minor, currency, status, created_at, updated_at)
       select $1, gen_random_uuid(), 'Catalog filler ' || g, 'A published course without interactions.', array['filler', 'track-' || (g % 12)],
              (array['BEGINNER','INTERMEDIATE','ADVANCED'])[1 + g % 3], (array['VIDEO','AUDIO','ARTICLE','LIVE','BUNDLE'])[1 + g % 5],
              1000 + g % 500, 'USD', 'PUBLISHED', now() - interval '400 days' + g * interval '1 second', now()
       from generate_series(1, $2) g`,
      [brand.id, added],
    );
    await c.query('analyze courses');
  });
  const courses = await withClient(bench.databaseUrl, (c) => c.query('select count(*)::int as n from courses').then((r) => r.rows[0].n as number));
  log(`courses in the database: ${courses} (${added} PUBLISHED ones added to the brand by SQL, without events)`);

  const ids = await learnerIds(bench, brand);
  const learnerId = ids.get('learner-1')!;
  const active = await app.runAs(Principal.system(brand.id, 'bench'), (ctx) => app.models.activeVersion(ctx, ModelKind.RECOMMENDER));
  if (!active) throw new Error('no active RECOMMENDER version');

  const callService = () =>
    app.runAs(Principal.system(brand.id, 'bench'), (ctx) => app.services.recommendations.forLearner(ctx, learnerId, 10, RecommendationScope.OWN));
  const recommendBody = JSON.stringify({ query: RECOMMEND_QUERY, variables: { id: learnerId } });
  const recommendExpected = await bodyOf(bench.url, brand.owner, recommendBody);
  await loadServer(bench.url, brand.owner, recommendBody, 3, 0, connections);
  recording = [];
  const httpCpuFrom = cpuNow();
  const http = await loadServer(bench.url, brand.owner, recommendBody, duration, 0, connections, recommendExpected);
  const httpCpu = httpCpuFrom.since();
  const httpCalls = batchStats(recording);
  recording = null;
  log(`recommendCourses over HTTP: ${describe(http)}; ${httpCalls.calls} model calls, batch mean ${httpCalls.meanBatch.toFixed(1)}, max ${httpCalls.maxBatch}`);
  const singleTimes: number[] = [];
  let singleCpu = 0;
  for (let i = 0; i < 220; i++) {
    if (i === 20) {
      startSql();
      singleCpu = cpuSeconds();
    }
    const t = performance.now();
    const text = await bodyOf(bench.url, brand.owner, recommendBody);
    if (i >= 20) singleTimes.push(performance.now() - t);
    if (text !== recommendExpected) throw new Error('recommendCourses answered differently one request at a time');
  }
  const singleSql = stopSql();
  const single = {
    ...latencies(singleTimes),
    sqlStatements: singleSql.count / singleTimes.length,
    sqlMs: singleSql.ms / singleTimes.length,
    cpuMs: ((cpuSeconds() - singleCpu) * 1000) / singleTimes.length,
  };
  const serviceSingleTimes: number[] = [];
  for (let i = 0; i < 220; i++) {
    const t = performance.now();
    await callService();
    if (i >= 20) serviceSingleTimes.push(performance.now() - t);
  }
  const serviceSingle = latencies(serviceSingleTimes);
  log(
    `recommendCourses over HTTP, one request at a time: p50 ${single.p50.toFixed(2)} ms, p99 ${single.p99.toFixed(2)} ms, ` +
      `${single.sqlStatements.toFixed(1)} SQL statements busy ${single.sqlMs.toFixed(2)} ms, ${single.cpuMs.toFixed(2)} ms of this process's CPU a request; forLearner in-process one at a time p50 ${serviceSingle.p50.toFixed(2)} ms, p99 ${serviceSingle.p99.toFixed(2)} ms`,
  );

  const concurrently = async (seconds: number, sink: number[] | null) => {
    const until = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < until) {
          const t = performance.now();
          const answer = await callService();
          if (answer.length !== 10) throw new Error(`forLearner returned ${answer.length} items`);
          sink?.push(performance.now() - t);
        }
      }),
    );
  };
  await concurrently(2, null);
  recording = [];
  const serviceTimes: number[] = [];
  const serviceFrom = performance.now();
  await concurrently(Math.max(5, duration - 2), serviceTimes);
  const serviceSeconds = (performance.now() - serviceFrom) / 1000;
  const serviceCalls = batchStats(recording);
  const serviceModel = latencies(recording.map((c) => c.ms));
  recording = null;
  const service = { ...latencies(serviceTimes, serviceSeconds), ...serviceCalls, modelP50: serviceModel.p50, modelP99: serviceModel.p99 };
  log(
    `forLearner in-process, ${connections} concurrent callers: ${service.perSecond!.toFixed(0)} calls/s, p50 ${service.p50.toFixed(2)} ms, p99 ${service.p99.toFixed(2)} ms; ` +
      `${service.calls} model calls (batch mean ${service.meanBatch.toFixed(1)}, max ${service.maxBatch}), model p50 ${service.modelP50.toFixed(3)} ms, p99 ${service.modelP99.toFixed(3)} ms`,
  );

  const rankTimes: number[] = [];
  recording = [];
  for (let i = 0; i < 300; i++) {
    await app.runAs(Principal.system(brand.id, 'bench'), async (ctx) => {
      const t = performance.now();
      await app.models.recommenders.rank(app.models.served(ctx, active), [{ learnerId, exclude: new Set() }]);
      rankTimes.push(performance.now() - t);
    });
  }
  const modelAlone = { session: latencies(recording.map((c) => c.ms)), rank: latencies(rankTimes) };
  recording = null;
  log(`model call alone, one learner, one at a time: session.run p50 ${modelAlone.session.p50.toFixed(3)} ms, p99 ${modelAlone.session.p99.toFixed(3)} ms; rank() p50 ${modelAlone.rank.p50.toFixed(3)} ms, p99 ${modelAlone.rank.p99.toFixed(3)} ms`);

  // 4. One batched model call for 256 learners, and the GraphQL request for them.
  const pages = await learnerPages(bench, brand, [100, 100, 56]);
  const batchLearners = pages.flatMap((p) => p.ids);
  const modelMs: number[] = [];
  const rankMs: number[] = [];
  const batchSizes = new Set<number>();
  const runs = 50;
  for (let i = 0; i < runs + 3; i++) {
    recording = [];
    await app.runAs(Principal.system(brand.id, 'bench'), async (ctx) => {
      const t = performance.now();
      await app.models.recommenders.rank(
        app.models.served(ctx, active),
        batchLearners.map((id) => ({ learnerId: id, exclude: new Set<string>() })),
      );
      if (i >= 3) rankMs.push(performance.now() - t);
    });
    if (i >= 3) for (const c of recording) (modelMs.push(c.ms), batchSizes.add(c.batch));
  }
  recording = null;
  const query = `{ ${pages
    .map((p, j) => `p${j}: learners(first: ${p.first}${p.after ? `, after: "${p.after}"` : ''}) { edges { node { id recommendations(first: 10, scope: OWN) { course { id } } } } }`)
    .join(' ')} }`;
  const graphqlMs: number[] = [];
  const graphqlModel: number[] = [];
  const callShapes = new Map<string, number>();
  const graphqlRuns = 20;
  let graphqlCpu = 0;
  for (let i = 0; i < graphqlRuns + 2; i++) {
    recording = [];
    if (i === 2) {
      startSql();
      graphqlCpu = cpuSeconds();
    }
    const t = performance.now();
    const data = await graphql(bench.url, brand.owner, query);
    const ms = performance.now() - t;
    const got = pages.reduce((n, _p, j) => n + data[`p${j}`].edges.filter((e: any) => e.node.recommendations.length === 10).length, 0);
    if (got !== batchLearners.length) throw new Error(`the GraphQL request gave 10 recommendations to ${got} of ${batchLearners.length} learners`);
    if (i >= 2) {
      graphqlMs.push(ms);
      graphqlModel.push(recording.reduce((s, c) => s + c.ms, 0));
      const shape = recording.map((c) => c.batch).join(' + ');
      callShapes.set(shape, (callShapes.get(shape) ?? 0) + 1);
    }
  }
  recording = null;
  const batchSql = stopSql();
  const batch = {
    sqlStatements: batchSql.count / graphqlRuns,
    sqlMs: batchSql.ms / graphqlRuns,
    cpuMs: ((cpuSeconds() - graphqlCpu) * 1000) / graphqlRuns,
    modelMs: median(modelMs),
    modelP90: percentile([...modelMs].sort((a, b) => a - b), 0.9),
    rankMs: median(rankMs),
    batchSizes: [...batchSizes],
    graphqlMs: median(graphqlMs),
    graphqlP90: percentile([...graphqlMs].sort((a, b) => a - b), 0.9),
    graphqlCalls: [...callShapes].map(([shape, n]) => `${shape} (${n} of ${graphqlRuns})`).join('; '),
    graphqlModelMs: median(graphqlModel),
    runs,
    graphqlRuns,
  };
  log(
    `256 learners: model call median ${batch.modelMs.toFixed(2)} ms (batch ${batch.batchSizes.join('/')}), rank() ${batch.rankMs.toFixed(2)} ms; ` +
      `GraphQL request median ${batch.graphqlMs.toFixed(1)} ms, p90 ${batch.graphqlP90.toFixed(1)} ms, model calls per request: ${batch.graphqlCalls}, ` +
      `${batch.sqlStatements.toFixed(1)} SQL statements busy ${batch.sqlMs.toFixed(1)} ms, ${batch.cpuMs.toFixed(1)} ms of this process's CPU a request`,
  );

  // The model call with 10,000 courses in the model (random weights), on the same runtime.
  const bigModel = await bigModelCalls(app.models.runtime, TOTAL_COURSES, 2000, Number((first.metrics?.hyper as any)?.als?.factors ?? 32));
  log(`a model of ${TOTAL_COURSES} courses: one learner p50 ${bigModel.single.p50.toFixed(3)} ms, p99 ${bigModel.single.p99.toFixed(3)} ms; 256 learners median ${bigModel.batchMs.toFixed(2)} ms`);

  return {
    date: now(),
    machine: machine(),
    seed: opts.seed,
    events: synthetic.events.length,
    connections,
    duration,
    ingest,
    training,
    catalog: windows,
    courses,
    recommend: { http, httpCpu, single, serviceSingle, httpCalls, service, modelAlone },
    batch,
    bigModel,
  };
}

function batchStats(calls: ModelCall[]): { calls: number; meanBatch: number; maxBatch: number } {
  const sizes = calls.map((c) => c.batch);
  return { calls: calls.length, meanBatch: sizes.reduce((s, b) => s + b, 0) / Math.max(1, sizes.length), maxBatch: Math.max(0, ...sizes) };
}

/** Consecutive pages of the brand's learners (sizes `firsts`): their ids and the cursor each starts after. */
async function learnerPages(bench: BenchServer, brand: BenchBrand, firsts: number[]): Promise<{ first: number; after: string | null; ids: string[] }[]> {
  const pages: { first: number; after: string | null; ids: string[] }[] = [];
  let after: string | null = null;
  for (const first of firsts) {
    const data = await graphql(bench.url, brand.owner, `query($first: Int!, $after: String) { learners(first: $first, after: $after) { edges { node { id } } pageInfo { endCursor } } }`, {
      first,
      after,
    });
    pages.push({ first, after, ids: data.learners.edges.map((e: any) => e.node.id) });
    after = data.learners.pageInfo.endCursor;
  }
  return pages;
}

/** A factor model with random weights, as a trainer's output would be shaped. */
function randomModel(random: Random, learners: number, items: number, factors: number): FactorModel {
  const fill = (n: number, scale: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = scale * random.normal();
    return a;
  };
  return { learners, items, factors, learnerFactors: fill(learners * factors, 0.1), itemFactors: fill(items * factors, 0.1), itemBias: fill(items, 0.5) };
}

/** The model call alone (session.run, as RecommenderServing feeds it) for a model of `items` courses. */
async function bigModelCalls(runtime: ModelRuntime, items: number, learners: number, factors: number): Promise<PerfResults['bigModel']> {
  const bytes = recommenderGraph(randomModel(new Random(7), learners, items, factors), Math.min(RECOMMENDER_TOP, items));
  const session: ModelSession = await runtime.load(bytes);
  try {
    const call = async (n: number) => {
      const learner = Int32Array.from({ length: n }, (_v, i) => (i * 7) % learners);
      const mask = new Float32Array(n * items);
      const t = performance.now();
      await session.run({ learner: { data: learner, dims: [n] }, mask: { data: mask, dims: [n, items] } });
      return performance.now() - t;
    };
    for (let i = 0; i < 20; i++) await call(1);
    const single: number[] = [];
    for (let i = 0; i < 300; i++) single.push(await call(1));
    for (let i = 0; i < 3; i++) await call(256);
    const batch: number[] = [];
    for (let i = 0; i < 50; i++) batch.push(await call(256));
    return { items, learners, factors, single: latencies(single), batchMs: median(batch), bytes: bytes.byteLength };
  } finally {
    await session.release();
  }
}

// --- the session cache's memory (child processes) ------------------------------------------------------

function cacheInChild(mode: 'unbounded' | 'bounded'): CacheRun {
  const run = spawnSync(process.execPath, ['--expose-gc', __filename, 'cache-child', mode], { encoding: 'utf8', timeout: 240_000 });
  if (run.status !== 0) throw new Error(`session cache child (${mode}) failed: ${run.error ?? ''} ${run.stderr.slice(-2000)}`);
  const result = JSON.parse(run.stdout.trim().split('\n').pop() as string) as CacheRun;
  log(
    `session cache, ${mode}${mode === 'bounded' ? ` (maxModels ${result.maxModels}, ${result.loads} loads of ${result.models} models)` : ''}: ` +
      `RSS ${result.rssBeforeMiB.toFixed(0)} → ${result.rssAfterMiB.toFixed(0)} MiB after GC (peak ${result.rssPeakMiB.toFixed(0)} unforced, ${result.rssPeakAfterGcMiB.toFixed(0)} after GC; ` +
      `every 100 loads: ${result.rawSamples.join(', ')}; after each round's GC: ${result.samples.join(', ')}), ${result.perModelKiB.toFixed(0)} KiB a model held, ` +
      `cache counts ${result.cacheMiB.toFixed(1)} MiB for ${result.cacheSize} models; threads ${result.threadsBefore} → ${result.threadsAfter}`,
  );
  return result;
}

const rssMiB = () => process.memoryUsage.rss() / 2 ** 20;
const threads = () => Number(/Threads:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
const gc = () => (globalThis as { gc?: () => void }).gc?.();

/** A deterministic UUID-shaped id (36 characters, as stored ids are). */
const uuidOf = (kind: number, brand: number, row: number) =>
  `${brand.toString(16).padStart(8, '0')}-${kind.toString(16).padStart(4, '0')}-4000-8000-${row.toString(16).padStart(12, '0')}`;

/** Brand `b`'s model as the trainer would store it: the graph and the meta (ids, item factors). */
function brandArtifact(b: number): { bytes: Uint8Array; meta: Record<string, unknown> } {
  const { learners, items, factors } = CACHE_SHAPE;
  const model = randomModel(new Random(1000 + b), learners, items, factors);
  const top = Math.min(RECOMMENDER_TOP, items);
  const meta: RecommenderMeta = {
    learners: Array.from({ length: learners }, (_v, r) => uuidOf(1, b, r)),
    items: Array.from({ length: items }, (_v, r) => uuidOf(2, b, r)),
    top,
    factors,
    itemFactors: Buffer.from(model.itemFactors.buffer).toString('base64'),
  };
  return { bytes: recommenderGraph(model, top), meta: meta as unknown as Record<string, unknown> };
}

async function cacheChild(mode: 'unbounded' | 'bounded'): Promise<void> {
  const runtime = await ModelRuntime.open('cpu');
  const maxModels = mode === 'bounded' ? CACHE_BOUND : CACHE_BRANDS * 10;
  const cache = new SessionCache<unknown>({ maxModels, maxBytes: mode === 'bounded' ? 1024 * 2 ** 20 : Number.MAX_SAFE_INTEGER });
  const serving = new RecommenderServing(runtime, cache, { windowMs: 0, maxBatch: 256 }, () => undefined);
  const serve = (b: number) =>
    serving.rank({ id: `brand-${b}-v1`, load: async () => brandArtifact(b) }, [{ learnerId: uuidOf(1, b, b % CACHE_SHAPE.learners), exclude: new Set() }]).then((r) => {
      if (!r[0] || r[0].length === 0) throw new Error(`brand ${b}: no ranking`);
    });
  // One model loaded and dropped first, so ONNX Runtime's own start-up is not counted per model.
  const warm = new SessionCache<unknown>({ maxModels: 1, maxBytes: Number.MAX_SAFE_INTEGER });
  await new RecommenderServing(runtime, warm, { windowMs: 0, maxBatch: 256 }, () => undefined).rank(
    { id: 'warm', load: async () => brandArtifact(CACHE_BRANDS + 1) },
    [{ learnerId: uuidOf(1, CACHE_BRANDS + 1, 0), exclude: new Set() }],
  );
  await warm.clear();
  gc();
  const before = rssMiB();
  const threadsBefore = threads();
  const samples: number[] = [];
  const rawSamples: number[] = [];
  let peak = before;
  let peakAfterGc = before;
  const started = performance.now();
  const rounds = mode === 'bounded' ? CACHE_ROUNDS : 1;
  let loads = 0;
  for (let r = 0; r < rounds; r++) {
    for (let b = 0; b < CACHE_BRANDS; b++) {
      await serve(b);
      loads++;
      if (loads % 100 === 0) {
        const raw = rssMiB();
        peak = Math.max(peak, raw);
        rawSamples.push(Math.round(raw));
      }
    }
    // At the end of each round, what the live models hold: RSS after a forced GC.
    gc();
    await sleep(100);
    const live = rssMiB();
    samples.push(Math.round(live));
    peakAfterGc = Math.max(peakAfterGc, live);
  }
  const seconds = (performance.now() - started) / 1000;
  gc();
  await sleep(200);
  const after = rssMiB();
  const mem = process.memoryUsage();
  const result: CacheRun = {
    mode,
    models: CACHE_BRANDS,
    loads: cache.loads,
    evictions: cache.evictions,
    maxModels,
    rssBeforeMiB: before,
    rssAfterMiB: after,
    rssPeakMiB: Math.max(peak, after),
    rssPeakAfterGcMiB: Math.max(peakAfterGc, after),
    rawSamples,
    perModelKiB: ((after - before) * 1024) / cache.size,
    cacheMiB: cache.bytes / 2 ** 20,
    cacheSize: cache.size,
    heapUsedMiB: mem.heapUsed / 2 ** 20,
    externalMiB: mem.external / 2 ** 20,
    threadsBefore,
    threadsAfter: threads(),
    artifactBytes: brandArtifact(0).bytes.byteLength,
    seconds,
    samples,
  };
  await cache.clear();
  console.log(JSON.stringify(result));
}

// --- RESULTS.md ----------------------------------------------------------------------------------------

const f4 = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(4) : 'n/a');
const f1 = (v: number) => v.toFixed(1);
const f2 = (v: number) => v.toFixed(2);
const met = (ok: boolean) => (ok ? '**met**' : '**not met**');

function shell(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trimEnd() : '';
}

/** The code measured: the commit and what was uncommitted (read-only git). */
function codeState(): string {
  const commit = shell('git', ['rev-parse', '--short', 'HEAD']).trim();
  if (!commit) return 'unknown (no git)';
  const dirty = shell('git', ['status', '--porcelain', '--', 'src', 'bench', 'migrations', 'sql'])
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(3))
    .filter((f) => f !== 'bench/RESULTS.md');
  return dirty.length ? `commit ${commit} with uncommitted changes to ${dirty.join(', ')}` : `commit ${commit}`;
}

/** A short name for the code measured: the commit, and a hash of the uncommitted changes under src/, migrations/ and sql/ when there are any. */
function codeTag(): string {
  const commit = shell('git', ['rev-parse', '--short', 'HEAD']).trim();
  if (!commit) return 'unknown code';
  const diff = shell('git', ['diff', 'HEAD', '--', 'src', 'migrations', 'sql']);
  return diff ? `${commit} + uncommitted src ${createHash('sha1').update(diff).digest('hex').slice(0, 8)}` : commit;
}

function report(dir: string): void {
  const api = JSON.parse(fs.readFileSync(path.join(dir, 'api.json'), 'utf8')) as ApiResults;
  const p = JSON.parse(fs.readFileSync(path.join(dir, 'perf.json'), 'utf8')) as PerfResults;
  const m = api.training.metrics ?? {};
  const stored = m.ndcg10 as number;
  const popularity = m.popularityNdcg10 as number;
  const oracle = api.rows.find((r) => r.name.startsWith('oracle'))!;
  const ease = api.rows.find((r) => r.name.startsWith('EASE'));
  const knn = api.rows.find((r) => r.name.startsWith('item-kNN'));
  const pgVersion = process.env.BENCH_PG_VERSION ?? 'PostgreSQL';
  const memory = process.env.BENCH_FREE ?? '';
  const idle = p.catalog.filter((w) => w.kind === 'idle');
  const busy = p.catalog.filter((w) => w.kind === 'training');
  const mean = (ws: CatalogWindow[], f: (w: CatalogWindow) => number) => ws.reduce((s, w) => s + f(w), 0) / ws.length;
  const idleRate = mean(idle, (w) => w.load.perSecond);
  const busyRate = mean(busy, (w) => w.load.perSecond);
  const slowdown = 1 - busyRate / idleRate;
  const underLoad = busy.flatMap((w) => w.trainings.map((t) => f1(t.wallMs / 1000))).join(', ');
  const unbounded = p.cache.find((c) => c.mode === 'unbounded')!;
  const bounded = p.cache.find((c) => c.mode === 'bounded')!;
  const counted = (c: CacheRun) => (c.cacheMiB * 1024) / c.cacheSize;
  const trainSeconds = api.training.wallMs / 1000;
  const perfTrainSeconds = p.training.wallMs / 1000;
  const r = p.recommend;
  const cores = os.cpus().length;
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

  // Every run, newest last: kept from the section as it stood.
  const header =
    '| date | train s (quality / perf) | NDCG@10 | popularity | oracle | EASE | catalog req/s no training → training | recommend HTTP p50 / p99 ms, req/s | one request p50 ms | service p99 ms (32 callers) | model 256 ms | GraphQL 256 ms | cache KiB a model; bounded RSS after GC, MiB |';
  const previous = readSection(SECTION);
  const at = previous.findIndex((l) => l.trim() === '### Every run');
  // A report written again from the same run replaces that run's row.
  const kept = at === -1 ? [] : previous.slice(at + 1).filter((l) => l.startsWith('| ') && !l.startsWith('| date') && !l.startsWith('|---') && !l.startsWith(`| ${p.date} `));
  const row =
    `| ${p.date} (${p.codeTag ?? codeTag()}) | ${f1(trainSeconds)} / ${f1(perfTrainSeconds)} | ${f4(stored)} | ${f4(popularity)} | ${f4(oracle.ndcg10)} | ${ease ? f4(ease.ndcg10) : 'n/a'} | ` +
    `${idleRate.toFixed(0)} → ${busyRate.toFixed(0)} (−${pct(slowdown)}) | ${r.http.p50} / ${r.http.p99}, ${r.http.perSecond.toFixed(0)} | ${f2(r.single.p50)} | ` +
    `${f2(r.service.p99)} | ${f2(p.batch.modelMs)} | ${f1(p.batch.graphqlMs)} | ${unbounded.perModelKiB.toFixed(0)}; ${Math.max(...bounded.samples)} |`;
  const slowdowns = [...kept, row].map((l) => Number(/\(−(\d+)%\)/.exec(l)?.[1] ?? NaN)).filter(Number.isFinite);
  const acrossRuns = `Over the ${slowdowns.length} runs in the table below: ${slowdowns.join(', ')}% slower, within 20% in ${slowdowns.filter((x) => x <= 20).length} of them.`;

  const lines: string[] = [
    `## ${SECTION}`,
    '',
    'The recommender end to end on PostgreSQL: quality through the public API (`bench/ml/api.ts`) and CPU performance (`bench/ml/perf.ts`), ' +
      'on the synthetic brand of `bench/ml/synthetic.ts` (planted tastes). `bash bench/run-ml.sh` builds, starts a private PostgreSQL cluster, runs both and writes this section; ' +
      'the server runs in the benchmark\'s process with `ALLIED_ML_DEVICE=cpu`, `NODE_ENV=production`, rate limits off (one client address), other settings at their defaults ' +
      '(pool 10, ALLIED_ML_BATCH_WINDOW_MS 2, ALLIED_ML_MAX_BATCH 256, ALLIED_ML_CACHE_MODELS 256).',
    '',
    `- Date: ${p.date} (quality run ${api.date})`,
    `- Machine: ${p.machine}${memory ? `; \`free -g\`: ${memory}` : ''}; the server, its training worker, PostgreSQL and the load generator share it.`,
    `- PostgreSQL: ${pgVersion}, a private cluster from scripts/pg-cluster.sh (fsync=off, shared_buffers=256MB).`,
    `- Code: ${p.code ?? codeState()}.`,
    `- Data: seed ${api.seed}, ${api.learners} learners × ${api.courses} courses, ${api.events} events (VIEW, CLICK, ENROLL, PURCHASE, COMPLETE, RATING). ` +
      'Courses created through GraphQL (25 aliased `createCourse` a request, then `updateCourse` to PUBLISHED), events sent through `POST /ingest` ' +
      `(${api.ingest.events} events in ${f1(api.ingest.seconds)} s, two concurrent uploads).`,
    '',
    '### Quality',
    '',
    `trainModel(RECOMMENDER) → READY, polled every 200 ms through \`models\`: **${f1(trainSeconds)} s** ` +
      `(stored trainingMs ${m.trainingMs}, ${m.interactions} interactions, algorithm ${m.algorithm}, device ${api.training.device}, active ${api.training.active}). ` +
      `The held-out split reproduced here from the generated events with \`splitByTime\` — cutoff ${api.split.cutoff}, ${api.split.trainPairs} train pairs, ` +
      `${api.split.testPairs} held-out pairs of ${api.split.heldOutLearners} learners — ` +
      (api.split.matchesStored ? 'is the one the trainer used (all four equal the stored metrics).' : `**differs from the stored one**: ${api.split.mismatch.join('; ')}.`),
    '',
    'All held-out learners, every train course excluded from every ranking (the trainer\'s protocol, src/ml/train/evaluate.ts):',
    '',
    '| model | NDCG@10 | recall@10 | learners | how |',
    '|---|--:|--:|--:|---|',
    ...api.rows.map((row) => `| ${row.name} | ${f4(row.ndcg10)} | ${f4(row.recall10)} | ${row.learners} | ${row.note} |`),
    ...(api.ease.ran ? [] : ['', `EASE and item-kNN: not measured (${api.ease.note}).`]),
    '',
    `Through the API: ${api.sample} held-out learners (evenly spaced among them), their \`recommendCourses\` answers scored with the same NDCG@10 and recall@10 ` +
      '(25 aliased fields a request):',
    '',
    '| ranking | NDCG@10 | recall@10 | learners | what it is |',
    '|---|--:|--:|--:|---|',
    ...api.sampleRows.map((row) => `| ${row.name} | ${f4(row.ndcg10)} | ${f4(row.recall10)} | ${row.learners} | ${row.note} |`),
    '',
    `The second brand (the same ${api.courses} courses, the ${api.trainOnly.events} events before the cutoff) trained in ${f1(api.trainingTrainOnly.wallMs / 1000)} s; ` +
      `its own stored held-out NDCG@10 (a split inside the train part) is ${f4(api.trainingTrainOnly.metrics?.ndcg10)}. The main figures are the stored ones above. ` +
      (() => {
        const dropped = api.sampleRows.find((row) => row.name.endsWith('train courses dropped'));
        const pop = api.sampleRows.find((row) => row.name === 'popularity');
        const orc = api.sampleRows.find((row) => row.name.startsWith('oracle'));
        if (!dropped || !pop || !orc) return '';
        return (
          `The held-out API figure with train courses dropped is ${f2(dropped.ndcg10 / pop.ndcg10)} × popularity and ${f2(dropped.ndcg10 / orc.ndcg10)} × the oracle on its ${dropped.learners} learners, ` +
          `against ${f2(stored / popularity)} × and ${f2(stored / oracle.ndcg10)} × for the stored figure on all held-out learners: what the API serves is in line with what the version reports.`
        );
      })(),
    '',
    'Targets, on the stored NDCG@10 (all held-out learners):',
    '',
    `- NDCG@10 ≥ 2 × popularity: ${met(stored >= 2 * popularity)} — ${f4(stored)} = ${f2(stored / popularity)} × ${f4(popularity)}` +
      (stored >= 2 * popularity ? '.' : ` (gap ${f4(2 * popularity - stored)}). ${peerCause(api, 'popularity')}`),
    `- NDCG@10 ≥ 0.8 × oracle: ${met(stored >= 0.8 * oracle.ndcg10)} — ${f2(stored / oracle.ndcg10)} × the oracle's ${f4(oracle.ndcg10)}` +
      (stored >= 0.8 * oracle.ndcg10 ? '.' : ` (gap ${f4(0.8 * oracle.ndcg10 - stored)}). ${peerCause(api, 'oracle')}`),
    ease
      ? `- Within 5% of EASE: ${met(stored >= 0.95 * ease.ndcg10)} — ${f2(stored / ease.ndcg10)} × EASE's ${f4(ease.ndcg10)}${knn ? ` (item-kNN ${f4(knn.ndcg10)})` : ''}` +
        (stored >= 0.95 * ease.ndcg10 ? '.' : ` (gap ${f4(0.95 * ease.ndcg10 - stored)}).`)
      : '- Within 5% of EASE: not measured (no EASE run).',
    '',
    '### CPU performance',
    '',
    `The same data on a fresh database (ingested in ${f1(p.ingest.seconds)} s). autocannon: ${p.connections} connections, ${p.duration} s a window, ` +
      'in a worker thread of the benchmark\'s process, latencies in whole milliseconds; other latencies are timed here to the microsecond. ' +
      '"Machine busy" is the share of both cores\' time not idle (/proc/stat) in the window.',
    '',
    '| measurement | result |',
    '|---|---|',
    `| training, idle server: trainModel → READY | ${f1(perfTrainSeconds)} s (stored trainingMs ${p.training.trainingMs}); the quality run's: ${f1(trainSeconds)} s |`,
    ...p.catalog.map(
      (w, i) =>
        `| \`courses(first: 50)\`, window ${i + 1}: ${w.kind === 'idle' ? 'no training' : 'trainings back to back'}${i === 0 ? ' (after 3 s of warm-up)' : ''} | ${describe(w.load)}; ` +
        `machine busy ${pct(w.machineBusy)}, this process ${f1(w.processCpu)} s CPU` +
        (w.kind === 'training' ? `; a training was TRAINING ${pct(w.coverage)} of the window (trainings of ${w.trainings.map((t) => f1(t.wallMs / 1000)).join(', ')} s)` : '') +
        ' |',
    ),
    `| recommendCourses over HTTP, one learner, ${p.connections} connections, ${p.courses} courses in the database | ${describe(r.http)}; machine busy ${pct(r.httpCpu.machineBusy)}; ` +
      `${r.httpCalls.calls} model calls, batch mean ${f1(r.httpCalls.meanBatch)}, max ${r.httpCalls.maxBatch} |`,
    `| recommendCourses over HTTP, one request at a time (200) | p50 ${f2(r.single.p50)} ms, p99 ${f2(r.single.p99)} ms; ${f1(r.single.sqlStatements)} SQL statements a request, busy ${f2(r.single.sqlMs)} ms; this process's CPU ${f2(r.single.cpuMs)} ms a request |`,
    `| \`recommendations.forLearner\` in-process (\`runAs\`), one call at a time (200) | p50 ${f2(r.serviceSingle.p50)} ms, p99 ${f2(r.serviceSingle.p99)} ms |`,
    `| \`recommendations.forLearner\` in-process, ${p.connections} concurrent callers | ${r.service.perSecond!.toFixed(0)} calls/s, p50 ${f2(r.service.p50)} ms, p99 ${f2(r.service.p99)} ms; ` +
      `${r.service.calls} model calls (batch mean ${f1(r.service.meanBatch)}, max ${r.service.maxBatch}), each p50 ${r.service.modelP50.toFixed(3)} ms, p99 ${r.service.modelP99.toFixed(3)} ms |`,
    `| the model call alone, one learner, one at a time (300) | session.run p50 ${r.modelAlone.session.p50.toFixed(3)} ms, p99 ${r.modelAlone.session.p99.toFixed(3)} ms; ` +
      `\`recommenders.rank\` (micro-batch window included) p50 ${r.modelAlone.rank.p50.toFixed(3)} ms, p99 ${r.modelAlone.rank.p99.toFixed(3)} ms |`,
    `| one model call for 256 learners (median of ${p.batch.runs}) | session.run ${f2(p.batch.modelMs)} ms (p90 ${f2(p.batch.modelP90)}; batch ${p.batch.batchSizes.join('/')}); \`recommenders.rank\` ${f2(p.batch.rankMs)} ms |`,
    `| GraphQL: 256 learners' \`recommendations(first: 10, scope: OWN) { course { id } }\`, one request (median of ${p.batch.graphqlRuns}) | ${f1(p.batch.graphqlMs)} ms (p90 ${f1(p.batch.graphqlP90)}); ` +
      `model calls per request: ${p.batch.graphqlCalls}, ${f2(p.batch.graphqlModelMs)} ms of them; ${f1(p.batch.sqlStatements)} SQL statements, busy ${f1(p.batch.sqlMs)} ms; this process's CPU ${f1(p.batch.cpuMs)} ms a request |`,
    `| the model call for a model of ${p.bigModel.items} courses (random weights, ${p.bigModel.factors} factors, graph ${(p.bigModel.bytes / 2 ** 20).toFixed(1)} MiB) | one learner p50 ${p.bigModel.single.p50.toFixed(3)} ms, p99 ${p.bigModel.single.p99.toFixed(3)} ms; 256 learners ${f2(p.bigModel.batchMs)} ms (median of 50) |`,
    `| session cache, ${unbounded.models} brands' models held | RSS ${unbounded.rssBeforeMiB.toFixed(0)} → ${unbounded.rssAfterMiB.toFixed(0)} MiB after GC: **${unbounded.perModelKiB.toFixed(0)} KiB a model**; ` +
      `the cache counts ${f1(unbounded.cacheMiB)} MiB (${counted(unbounded).toFixed(0)} KiB a model); JS heap ${unbounded.heapUsedMiB.toFixed(0)} MiB; threads ${unbounded.threadsBefore} → ${unbounded.threadsAfter}; loaded in ${f1(unbounded.seconds)} s |`,
    `| session cache bounded to ${bounded.maxModels} models, ${bounded.models} cycled through ${CACHE_ROUNDS} times | ${bounded.loads} loads, ${bounded.evictions} evictions, ${bounded.cacheSize} held (${f1(bounded.cacheMiB)} MiB counted); ` +
      `RSS after each round's GC ${bounded.samples.join(', ')} MiB (start ${bounded.rssBeforeMiB.toFixed(0)}); without forced GC, every 100 loads: ${bounded.rawSamples.join(', ')} MiB; threads ${bounded.threadsBefore} → ${bounded.threadsAfter} |`,
    '',
    `How: the ${p.courses - api.courses} added courses are PUBLISHED courses of the same brand, inserted by SQL as the superuser, without events, so the served model still ranks the ` +
      `${api.courses} courses with interactions; the row with a model of ${p.bigModel.items} courses shows the model call at that size. ` +
      'Catalog under training: trainModel is sent, the benchmark waits until the version reports progress (its events read, the worker computing), then measures while a new training is started as soon as the previous one is READY (polled every 100 ms); ' +
      'idle and training windows alternate, because one window of each is within this machine\'s run-to-run noise. ' +
      'The 256 learners: `recommenders.rank` with 256 requests (empty exclusions) in one call inside `runAs`; the GraphQL request is three aliased `learners` pages (100 + 100 + 56, since MAX_PAGE is 100). ' +
      'SQL is counted and timed at `pg`\'s Client#query in the server (same process): a statement runs from its connection starting on it (sent, or the statement queued before it done) ' +
      'to its result reaching JavaScript, and "busy" sums those spans; a busy event loop delivers results late, so it is an upper bound on the database\'s share. ' +
      `Cache models: ${CACHE_SHAPE.learners} learners × ${CACHE_SHAPE.items} courses × ${CACHE_SHAPE.factors} factors (graph ${(unbounded.artifactBytes / 1024).toFixed(0)} KiB, meta with 36-character ids), ` +
      'each served once through RecommenderServing (loaded into a SessionCache on ModelRuntime.open(\'cpu\'), then one ranking), in a child process of its own; ' +
      '"before" is after one model was loaded and dropped, so ONNX Runtime\'s own start-up is not counted per model.',
    '',
    'Targets:',
    '',
    `- Training 100,000 interactions ≤ 30 s: ${met(perfTrainSeconds <= 30 && trainSeconds <= 30)} — ${f1(trainSeconds)} s and ${f1(perfTrainSeconds)} s on an idle server, ${underLoad} s under catalog load.`,
    `- Catalog reads slowed ≤ 20% by a training: ${met(slowdown <= 0.2)} — ${pct(slowdown)} slower (mean of ${idle.length} windows without training ${idleRate.toFixed(0)} req/s, of ${busy.length} with ${busyRate.toFixed(0)} req/s)` +
      (slowdown <= 0.2 ? '. ' : `, ${f1(100 * (slowdown - 0.2))} points over. `) + `${acrossRuns} ${catalogCause(p, idle, busy)}`,
    `- recommendCourses p99 ≤ 10 ms: ${met(r.http.p99 <= 10)} under ${p.connections} concurrent clients over HTTP — p99 ${r.http.p99} ms, ${Math.round(r.http.p99 / 10)} × the target. ` +
      `${recommendCause(p)}`,
    `- One batched model call for 256 learners ≤ 30 ms: ${met(p.batch.modelMs <= 30)} — ${f2(p.batch.modelMs)} ms (\`recommenders.rank\` around it ${f2(p.batch.rankMs)} ms). ` +
      `The whole GraphQL request for 256 learners: ${met(p.batch.graphqlMs <= 30)} — ${f1(p.batch.graphqlMs)} ms` +
      (p.batch.graphqlMs <= 30
        ? '.'
        : `, ${f1(p.batch.graphqlMs / 30)} × the target. This process spends ${f1(p.batch.cpuMs)} ms of CPU on it, on more than one thread (V8's garbage collector and ONNX Runtime run beside the event loop; the model calls take ${f2(p.batch.graphqlModelMs)} ms; ` +
          'the rest is the server\'s JavaScript: three learners pages, combining candidates, the catalog check, an explanation for each of the 2,560 recommendations, GraphQL execution and the response), ' +
          `and its ${f1(p.batch.sqlStatements)} SQL statements keep the transaction's connection busy ${f1(p.batch.sqlMs)} ms, overlapping that work (the three pages run side by side).`),
    `- Session cache memory (no target): ${unbounded.perModelKiB.toFixed(0)} KiB of RSS a model held, ${f1(unbounded.perModelKiB / counted(unbounded))} × the ${counted(unbounded).toFixed(0)} KiB the cache counts; ` +
      `bounded to ${bounded.maxModels}, RSS after each round's GC is ${bounded.samples.join(', ')} MiB over ${bounded.loads} loads ` +
      `(against ${unbounded.rssAfterMiB.toFixed(0)} MiB for all ${unbounded.models} held): bounded, with a creep of ${f1((bounded.samples[bounded.samples.length - 1] - bounded.samples[0]) / Math.max(1, bounded.samples.length - 1))} MiB a round of ${bounded.models} loads not explained here` +
      (Math.max(...bounded.rawSamples) > bounded.rssPeakAfterGcMiB + 20
        ? `; without a forced GC it climbs to ${Math.max(...bounded.rawSamples)} MiB before V8 collects the evicted models' JavaScript (meta, id maps, graph bytes).`
        : '.'),
    '',
  ];

  lines.push('### Every run', '', 'One row per `bash bench/run-ml.sh`, this machine.', '', header, '|---|--:|--:|--:|--:|--:|---|---|--:|--:|--:|--:|---|', ...kept, row, '');
  writeSection(SECTION, lines.join('\n'));
  console.log(lines.join('\n'));
}

/** Why a learned model stops short of a target measured against popularity or the oracle: where the outside peers stop. */
function peerCause(api: ApiResults, against: 'popularity' | 'oracle'): string {
  const ease = api.rows.find((row) => row.name.startsWith('EASE'));
  const knn = api.rows.find((row) => row.name.startsWith('item-kNN'));
  const base = against === 'popularity' ? api.rows.find((row) => row.name.startsWith('popularity, stored'))! : api.rows.find((row) => row.name.startsWith('oracle'))!;
  const peers = [ease, knn].filter((x): x is NonNullable<typeof x> => !!x);
  if (peers.length === 0) return '';
  return (
    `The outside peers stop at the same place on this split: ${peers.map((x) => `${x.name.split(' (')[0]} ${f2(x.ndcg10 / base.ndcg10)} ×`).join(', ')} ${against === 'popularity' ? 'popularity' : 'the oracle'}. ` +
    (against === 'popularity'
      ? (() => {
          const oracle = api.rows.find((row) => row.name.startsWith('oracle'))!;
          return `Popularity alone reaches ${f2(base.ndcg10 / oracle.ndcg10)} × the oracle on this data (the planted choice logit is log-popularity plus taste), so 2 × popularity would be ${f2((2 * base.ndcg10) / oracle.ndcg10)} × the oracle, the ceiling.`;
        })()
      : `The oracle knows each learner's planted taste; the models infer it from ${f1(api.split.trainPairs / api.learners)} train courses a learner on average.`)
  );
}

function catalogCause(p: PerfResults, idle: CatalogWindow[], busy: CatalogWindow[]): string {
  const m = (ws: CatalogWindow[], f: (w: CatalogWindow) => number) => ws.reduce((s, w) => s + f(w), 0) / ws.length;
  return (
    `The machine was ${(100 * m(idle, (w) => w.machineBusy)).toFixed(0)}% busy without a training and ${(100 * m(busy, (w) => w.machineBusy)).toFixed(0)}% with one ` +
    `(this process: ${f1(m(idle, (w) => w.processCpu))} s and ${f1(m(busy, (w) => w.processCpu))} s of CPU a window). A training computes on one worker thread for its whole run ` +
    `(TRAINING ${(100 * m(busy, (w) => w.coverage)).toFixed(0)}% of those windows); with ${(100 * (1 - m(idle, (w) => w.machineBusy))).toFixed(0)}% of ${os.cpus().length} cores idle before, ` +
    "most of that thread's core came out of the server's event loop, PostgreSQL and autocannon. " +
    'The worker thread trains at nice 19 (since commit f7c8432), so the event loop and PostgreSQL win the processor when both want it; what the training still takes is what would otherwise be idle, plus the memory bandwidth and caches it shares with them.'
  );
}

function recommendCause(p: PerfResults): string {
  const r = p.recommend;
  const little = (p.connections / r.http.perSecond) * 1000;
  return (
    `Under load it is queueing: ${p.connections} requests in flight at ${r.http.perSecond.toFixed(0)} req/s wait ${little.toFixed(0)} ms each on average (Little's law; p50 measured ${r.http.p50} ms), ` +
    `with the machine ${(100 * r.httpCpu.machineBusy).toFixed(0)}% busy. ` +
    `One request at a time takes p50 ${f2(r.single.p50)} ms, p99 ${f2(r.single.p99)} ms over HTTP (${r.single.p99 <= 10 ? 'within' : 'beyond'} the target): ` +
    `its ${f1(r.single.sqlStatements)} SQL statements (open, settings, the learner's history, the catalog check, commit) keep the connection busy ${f2(r.single.sqlMs)} ms and this process spends ${f2(r.single.cpuMs)} ms of CPU on it; ` +
    `the service call alone (in-process, no HTTP or GraphQL) p50 ${f2(r.serviceSingle.p50)} ms; ` +
    `the model call is ${r.modelAlone.rank.p50.toFixed(2)} ms of which ${r.modelAlone.session.p50.toFixed(3)} ms is ONNX Runtime and the rest the micro-batch's wait for the end of the event loop's turn (ALLIED_ML_BATCH_WINDOW_MS), ` +
    `which a lone request waits out. Under ${p.connections} callers the model call's p99 rises to ${r.service.modelP99.toFixed(2)} ms (its time includes waiting for the busy event loop).`
  );
}

const mode = process.argv[2];
const main = mode === 'cache-child' ? () => cacheChild(process.argv[3] as 'unbounded' | 'bounded') : mode === 'report' ? async () => report(process.argv[3]) : perf;
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
