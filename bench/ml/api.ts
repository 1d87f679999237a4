/**
 * The recommender's quality through Allied's public API, on PostgreSQL.
 *
 * On the synthetic brand of bench/ml/synthetic.ts (seeded; 2,000 learners ×
 * 500 courses, ~100,000 events with planted tastes) it:
 *
 * 1. creates a brand and its 500 courses (PUBLISHED) through GraphQL, sends
 *    every event through `POST /ingest`, calls `trainModel(RECOMMENDER)` and
 *    polls `models` until the version is READY: the training's wall time
 *    and the held-out metrics the version stored (the main figures);
 * 2. reproduces the trainer's time split from the generated events
 *    (`splitByTime`, src/ml/train/dataset.ts) and checks it is the one the
 *    trainer used (cutoff, train pairs, held-out pairs and learners);
 * 3. measures on that split, with the stored metrics' protocol (every train
 *    course excluded): popularity and the oracle (the planted choice logit)
 *    on all held-out learners, and, when python3 with numpy is there, EASE
 *    and item-kNN (bench/ml/ease.py) on the same split;
 * 4. asks `recommendCourses(first: 10, scope: OWN)` for a sample of held-out
 *    learners and scores the answers. The API excludes only bought, enrolled and completed courses,
 *    and the served model is trained on every event, the held-out ones
 *    included, so on this brand the figure is not a held-out one. A second
 *    brand gets only the events before the cutoff (as if it were the
 *    cutoff's day), is trained the same way, and the same learners are
 *    asked there: a held-out measurement of what the API serves, both as
 *    answered and with the learner's train courses dropped from a longer
 *    answer (first: 50), the stored metrics' protocol.
 *
 * Writes api.json into BENCH_ML_OUT (bench/ml/perf.ts reports it). Run it
 * with bench/run-ml.sh. BENCH_DATABASE_URL (required), BENCH_SEED (1),
 * BENCH_API_SAMPLE (300 held-out learners asked through the API).
 *
 * It also exports the pieces bench/ml/perf.ts shares: a server on a
 * throwaway database, a brand with the synthetic courses, ingestion,
 * training until READY.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { loadConfig, type Config } from '../../src/config';
import { openDatabase, type Database } from '../../src/db/database';
import { createLogger } from '../../src/logger';
import { heldOutLearners, heldOutPairs, splitByTime, type EventColumns, type HeldOut, type Interactions, type Split } from '../../src/ml/train/dataset';
import { constantScorer, popularityScores, rankingMetrics, type LearnerScorer } from '../../src/ml/train/evaluate';
import { startServer, type RunningServer } from '../../src/server';
import { resolveJwtKeys, signToken, type JwtKeys } from '../../src/tenancy/credentials';
import { Role } from '../../src/tenancy/roles';
import { graphql, machine, nonNegativeInt, now, positiveInt, throwawayDatabase } from '../support';
import { subset, writeHeldOut, writePairs } from './split-files';
import { generateBrand, toEventColumns, type SyntheticBrand, type SyntheticEvent } from './synthetic';

const JWT_SECRET = 'allied-bench-secret-0123456789-abcdefghij';
const K = 10;

export const log = (message: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);

// --- a server on a throwaway PostgreSQL database -----------------------------------------------

export interface BenchServer {
  server: RunningServer;
  config: Config;
  database: Database;
  keys: JwtKeys;
  /** The GraphQL endpoint. */
  url: string;
  /** The server's origin, for /ingest. */
  base: string;
  /** The throwaway database, for the superuser's seeding. */
  databaseUrl: string;
  close(): Promise<void>;
}

/**
 * Allied's server, in this process, on a new database of the PostgreSQL
 * server at `adminUrl`: production mode, models on the CPU, rate limits off
 * (the benchmark is one client address sending as fast as it can).
 */
export async function startBenchServer(adminUrl: string, env: Record<string, string> = {}): Promise<BenchServer> {
  const db = await throwawayDatabase(adminUrl);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'allied-bench-ml-'));
  let database: Database | undefined;
  try {
    const config = loadConfig({
      NODE_ENV: 'production',
      JWT_SECRET,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      ALLIED_DEMO: 'false',
      ALLIED_ML_DEVICE: 'cpu',
      ALLIED_RATE_LIMIT_PER_IP: '0',
      ALLIED_RATE_LIMIT_PER_BRAND: '0',
      DATABASE_URL: db.url,
      ALLIED_DATA_DIR: dir,
      ...env,
    });
    database = await openDatabase(config);
    const server = await startServer(config, database, createLogger(config.logLevel));
    const opened = database;
    return {
      server,
      config,
      database,
      keys: resolveJwtKeys(config),
      url: server.url,
      base: new URL(server.url).origin,
      databaseUrl: db.url,
      async close() {
        await server.stop();
        await opened.close();
        await db.drop();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await database?.close().catch(() => undefined);
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

// --- a brand with the synthetic catalog -------------------------------------------------------

export interface BenchBrand {
  id: string;
  owner: string;
  ingest: string;
  /** Course ids by synthetic course index. */
  courseIds: string[];
  /** Price in minor units by synthetic course index (USD). */
  prices: number[];
}

const LEVELS = ['BEGINNER', 'INTERMEDIATE', 'ADVANCED'];
const FORMATS = ['VIDEO', 'AUDIO', 'ARTICLE', 'LIVE', 'BUNDLE'];
/** Aliased mutations per request: under the default ALLIED_MAX_ALIASES (30). */
const ALIASES = 25;

/** A brand (created by a platform admin) with the synthetic courses, created and published by its OWNER through GraphQL. */
export async function createBrand(bench: BenchServer, name: string, synthetic: SyntheticBrand): Promise<BenchBrand> {
  const admin = signToken(bench.keys, { sub: 'bench-admin', roles: [Role.PLATFORM_ADMIN] }, 24 * 3600);
  const slug = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${crypto.randomBytes(3).toString('hex')}`;
  const created = await graphql(bench.url, admin, `mutation($input: CreateBrandInput!) { createBrand(input: $input) { id } }`, {
    input: { slug, name, kind: 'KNOWLEDGE_PLATFORM' },
  });
  const id = created.createBrand.id as string;
  const owner = signToken(bench.keys, { sub: `bench-owner-${slug}`, tid: id, roles: [Role.OWNER] }, 24 * 3600);
  const ingest = signToken(bench.keys, { sub: `bench-ingest-${slug}`, tid: id, roles: [Role.INGEST] }, 24 * 3600);
  const prices = synthetic.courses.map((_c, i) => 1000 + 25 * (i % 200));
  const courseIds: string[] = [];
  for (let start = 0; start < synthetic.courses.length; start += ALIASES) {
    const chunk = synthetic.courses.slice(start, start + ALIASES);
    const variables: Record<string, unknown> = {};
    const defs: string[] = [];
    const fields: string[] = [];
    chunk.forEach((c, j) => {
      const i = start + j;
      defs.push(`$i${j}: CreateCourseInput!`);
      fields.push(`c${j}: createCourse(input: $i${j}) { id }`);
      variables[`i${j}`] = {
        title: c.title,
        description: `${c.title}: a synthetic course about ${c.topics.join(' and ')}.`,
        topics: c.topics,
        level: LEVELS[i % LEVELS.length],
        format: FORMATS[i % FORMATS.length],
        price: { amountMinor: prices[i], currency: 'USD' },
      };
    });
    const data = await graphql(bench.url, owner, `mutation(${defs.join(', ')}) { ${fields.join(' ')} }`, variables);
    const ids = chunk.map((_c, j) => data[`c${j}`].id as string);
    courseIds.push(...ids);
    await graphql(
      bench.url,
      owner,
      `mutation { ${ids.map((cid, j) => `p${j}: updateCourse(id: "${cid}", input: { status: PUBLISHED }) { id }`).join(' ')} }`,
    );
  }
  return { id, owner, ingest, courseIds, prices };
}

// --- ingestion ----------------------------------------------------------------------------------

interface IngestSummary {
  accepted: number;
  duplicates: number;
  rejected: { line: number; code: string; message: string }[];
  lines: number;
  truncated: { line: number } | null;
}

/** The synthetic events as NDJSON lines for `brand` (idempotency keys from their index, so a repeat is a duplicate). */
function eventLine(brand: BenchBrand, e: SyntheticEvent, index: number): string {
  const event: Record<string, unknown> = {
    idempotencyKey: `synthetic-${index}`,
    type: e.type,
    learnerExternalId: e.learnerExternalId,
    occurredAt: e.occurredAt,
    courseId: brand.courseIds[e.courseIndex],
  };
  if (e.type === 'PURCHASE') event.amount = { amountMinor: brand.prices[e.courseIndex], currency: 'USD' };
  if (e.type === 'RATING') event.rating = e.rating;
  return JSON.stringify(event);
}

/** One streamed `POST /ingest` of `indexes` (into `events`); every line must be accepted. */
function upload(bench: BenchServer, brand: BenchBrand, events: SyntheticEvent[], indexes: number[]): Promise<IngestSummary> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${bench.base}/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${brand.ingest}` },
      agent: false,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        if (res.statusCode !== 200) return reject(new Error(`POST /ingest: ${res.statusCode} ${text.slice(0, 500)}`));
        const summary = JSON.parse(text) as IngestSummary;
        if (summary.accepted !== indexes.length || summary.rejected.length || summary.truncated) {
          return reject(new Error(`POST /ingest accepted ${summary.accepted} of ${indexes.length}: ${JSON.stringify(summary).slice(0, 500)}`));
        }
        resolve(summary);
      });
    });
    let next = 0;
    Readable.from(
      (function* () {
        while (next < indexes.length) {
          let chunk = '';
          for (const end = Math.min(indexes.length, next + 500); next < end; next++) chunk += `${eventLine(brand, events[indexes[next]], indexes[next])}\n`;
          yield Buffer.from(chunk, 'utf8');
        }
      })(),
    ).pipe(req);
  });
}

/** Sends `events` (all, or those `keep` selects) through `POST /ingest`: two concurrent clients, uploads of 25,000 lines. Returns seconds. */
export async function ingestEvents(bench: BenchServer, brand: BenchBrand, events: SyntheticEvent[], keep: (e: SyntheticEvent) => boolean = () => true): Promise<{ events: number; seconds: number }> {
  const indexes: number[] = [];
  events.forEach((e, i) => keep(e) && indexes.push(i));
  const started = performance.now();
  const streams = 2;
  const per = 25_000;
  await Promise.all(
    Array.from({ length: streams }, async (_s, s) => {
      for (let at = s * per; at < indexes.length; at += streams * per) await upload(bench, brand, events, indexes.slice(at, at + per));
    }),
  );
  return { events: indexes.length, seconds: (performance.now() - started) / 1000 };
}

/** The brand's learners: external id → id, read page by page through GraphQL. */
export async function learnerIds(bench: BenchServer, brand: BenchBrand): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let after: string | null = null;
  for (;;) {
    const data = await graphql(
      bench.url,
      brand.owner,
      `query($after: String) { learners(first: 100, after: $after) { edges { node { id externalId } } pageInfo { hasNextPage endCursor } } }`,
      { after },
    );
    for (const edge of data.learners.edges) out.set(edge.node.externalId, edge.node.id);
    if (!data.learners.pageInfo.hasNextPage) return out;
    after = data.learners.pageInfo.endCursor;
  }
}

// --- training -------------------------------------------------------------------------------------

export interface TrainedVersion {
  id: string;
  status: string;
  active: boolean;
  device: string;
  metrics: Record<string, any> | null;
  decision: Record<string, any> | null;
  failure: string | null;
  /** trainModel sent → READY seen, ms (polled every `pollMs`). */
  wallMs: number;
}

const VERSION_FIELDS = 'id status active device metrics decision failure progress';

/** Starts a training: the TRAINING version trainModel returned, and when it was sent. */
export async function startTraining(bench: BenchServer, brand: BenchBrand): Promise<{ id: string; sentAt: number }> {
  const sentAt = performance.now();
  const data = await graphql(bench.url, brand.owner, `mutation { trainModel(kind: RECOMMENDER) { id status } }`);
  if (data.trainModel.status !== 'TRAINING') throw new Error(`trainModel returned ${JSON.stringify(data.trainModel)}`);
  return { id: data.trainModel.id, sentAt };
}

/** The version as `models` lists it. */
export async function versionOf(bench: BenchServer, brand: BenchBrand, id: string): Promise<Record<string, any>> {
  const data = await graphql(bench.url, brand.owner, `query { models(kind: RECOMMENDER) { ${VERSION_FIELDS} } }`);
  const version = (data.models as Record<string, any>[]).find((m) => m.id === id);
  if (!version) throw new Error(`models does not list version ${id}`);
  return version;
}

/** Polls `models` until the version leaves TRAINING; throws if it FAILED or takes longer than `timeoutMs`. */
export async function waitReady(bench: BenchServer, brand: BenchBrand, started: { id: string; sentAt: number }, pollMs = 200, timeoutMs = 180_000): Promise<TrainedVersion> {
  for (;;) {
    const v = await versionOf(bench, brand, started.id);
    const at = performance.now();
    if (v.status === 'READY') return { ...(v as TrainedVersion), wallMs: at - started.sentAt };
    if (v.status !== 'TRAINING') throw new Error(`training ${started.id} ended ${v.status}: ${v.failure}`);
    if (at - started.sentAt > timeoutMs) throw new Error(`training ${started.id} still TRAINING after ${timeoutMs} ms`);
    await sleep(pollMs);
  }
}

export async function trainUntilReady(bench: BenchServer, brand: BenchBrand): Promise<TrainedVersion> {
  return waitReady(bench, brand, await startTraining(bench, brand));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// --- the quality benchmark ------------------------------------------------------------------------

interface QualityRow {
  name: string;
  ndcg10: number;
  recall10: number;
  learners: number;
  note: string;
}

export interface ApiResults {
  date: string;
  machine: string;
  seed: number;
  learners: number;
  courses: number;
  events: number;
  ingest: { events: number; seconds: number };
  trainOnly: { events: number; seconds: number };
  training: TrainedVersion;
  trainingTrainOnly: TrainedVersion;
  split: { cutoff: string; trainPairs: number; testPairs: number; heldOutLearners: number; matchesStored: boolean; mismatch: string[] };
  /** Main figures: the version's stored metrics and the peers, all held-out learners, train courses excluded. */
  rows: QualityRow[];
  /** The API sample and the same baselines on it. */
  sampleRows: QualityRow[];
  sample: number;
  shortAnswers: number;
  ease: { ran: boolean; note: string; log?: string };
}

async function main(): Promise<void> {
  const adminUrl = process.env.BENCH_DATABASE_URL;
  if (!adminUrl) throw new Error('BENCH_DATABASE_URL is required (a PostgreSQL role that may create databases); see bench/run-ml.sh.');
  process.env.NODE_ENV ??= 'production';
  const seed = nonNegativeInt('BENCH_SEED', 1);
  const sampleSize = positiveInt('BENCH_API_SAMPLE', 300);
  const out = process.env.BENCH_ML_OUT ?? fs.mkdtempSync(path.join(os.tmpdir(), 'allied-ml-'));
  fs.mkdirSync(out, { recursive: true });

  log(`generating the synthetic brand (seed ${seed})`);
  const synthetic = generateBrand({ seed });
  const columns = toEventColumns(synthetic);
  const split = splitByTime(columns);
  log(
    `${synthetic.learners.length} learners × ${synthetic.courses.length} courses, ${synthetic.events.length} events; split at ${new Date(split.cutoff).toISOString()}: ` +
      `${split.train.learner.length} train pairs, ${heldOutPairs(split.test)} held-out pairs of ${heldOutLearners(split.test)} learners`,
  );

  const bench = await startBenchServer(adminUrl);
  try {
    log(`server at ${bench.url}; creating brand "Synthetic Academy" with ${synthetic.courses.length} PUBLISHED courses through GraphQL`);
    const brand = await createBrand(bench, 'Synthetic Academy', synthetic);
    log('ingesting every event through POST /ingest');
    const ingest = await ingestEvents(bench, brand, synthetic.events);
    log(`ingested ${ingest.events} events in ${ingest.seconds.toFixed(1)} s (${(ingest.events / ingest.seconds).toFixed(0)} events/s)`);
    log('trainModel(RECOMMENDER); polling models until READY');
    const training = await trainUntilReady(bench, brand);
    const m = training.metrics ?? {};
    log(
      `READY in ${(training.wallMs / 1000).toFixed(1)} s (trainingMs ${m.trainingMs}, ${m.interactions} interactions, ${m.algorithm}, device ${training.device}): ` +
        `NDCG@10 ${fmt(m.ndcg10)} recall@10 ${fmt(m.recall10)}; popularity NDCG@10 ${fmt(m.popularityNdcg10)} recall@10 ${fmt(m.popularityRecall10)}`,
    );

    const mismatch: string[] = [];
    const expect = (name: string, ours: unknown, stored: unknown) => ours !== stored && mismatch.push(`${name}: ours ${ours}, stored ${stored}`);
    expect('cutoff', new Date(split.cutoff).toISOString(), m.cutoff);
    expect('trainPairs', split.train.learner.length, m.trainPairs);
    expect('testPairs', heldOutPairs(split.test), m.testPairs);
    expect('heldOutLearners', heldOutLearners(split.test), m.heldOutLearners);
    log(mismatch.length ? `split differs from the trainer's: ${mismatch.join('; ')}` : 'split reproduced: cutoff, train pairs, held-out pairs and learners equal the stored ones');

    const oracle: LearnerScorer = (learner, scores) => {
      for (let c = 0; c < scores.length; c++) scores[c] = synthetic.oracleScores(learner, c);
    };
    const popularity = constantScorer(popularityScores(split.train));
    const all = (name: string, scorer: LearnerScorer, note: string): QualityRow => {
      const r = rankingMetrics(scorer, split.train, split.test, K);
      return { name, ndcg10: r.ndcg10, recall10: r.recall10, learners: r.learners, note };
    };
    const rows: QualityRow[] = [
      { name: `stored on the version (${m.algorithm})`, ndcg10: m.ndcg10, recall10: m.recall10, learners: m.heldOutLearners, note: 'the trainer\'s held-out run, from `models { metrics }`' },
      { name: 'popularity, stored on the version', ndcg10: m.popularityNdcg10, recall10: m.popularityRecall10, learners: m.heldOutLearners, note: 'from `models { metrics }`' },
      all('popularity, recomputed here', popularity, 'recency-weighted train weight; must equal the stored one'),
      all('oracle (planted affinity)', oracle, 'the planted choice logit: the ceiling'),
    ];

    const ease = runEase(out, columns, split);
    rows.splice(3, 0, ...ease.rows);
    log(ease.ran ? `EASE and item-kNN on the same split: ${ease.rows.map((r) => `${r.name} ${r.ndcg10.toFixed(4)}`).join(', ')}` : `EASE skipped: ${ease.note}`);

    // The sample asked through the API: held-out learners, evenly spaced.
    const heldOutRows: number[] = [];
    for (let l = 0; l < split.test.learners; l++) if (split.test.offsets[l + 1] > split.test.offsets[l]) heldOutRows.push(l);
    const sample = Array.from({ length: Math.min(sampleSize, heldOutRows.length) }, (_v, i) => heldOutRows[Math.floor((i * heldOutRows.length) / Math.min(sampleSize, heldOutRows.length))]);
    const sampleTest = subsetHeldOut(split.test, sample);
    const onSample = (name: string, scorer: LearnerScorer, note: string): QualityRow => {
      const r = rankingMetrics(scorer, split.train, sampleTest, K);
      return { name, ndcg10: r.ndcg10, recall10: r.recall10, learners: r.learners, note };
    };

    log(`asking recommendCourses(first: ${K}, scope: OWN) for ${sample.length} held-out learners (${ALIASES} aliases a request)`);
    const idsA = await learnerIds(bench, brand);
    const answersA = await askApi(bench, brand, sample.map((l) => idsA.get(synthetic.learners[l].externalId)!), K);
    const indexA = new Map(brand.courseIds.map((id, i) => [id, i]));
    const apiAll = scoreAnswers(answersA.map((a) => a.map((id) => indexA.get(id)!)), sample, split, null, K);

    log('second brand "Synthetic Academy (train part)": the same courses, only the events before the cutoff');
    const brandB = await createBrand(bench, 'Synthetic Academy train part', synthetic);
    const trainOnly = await ingestEvents(bench, brandB, synthetic.events, (e) => Date.parse(e.occurredAt) < split.cutoff);
    log(`ingested ${trainOnly.events} events in ${trainOnly.seconds.toFixed(1)} s; training`);
    const trainingB = await trainUntilReady(bench, brandB);
    log(`READY in ${(trainingB.wallMs / 1000).toFixed(1)} s; asking the same learners there (first: ${K}, and first: 50 to drop train courses)`);
    const idsB = await learnerIds(bench, brandB);
    const learnersB = sample.map((l) => idsB.get(synthetic.learners[l].externalId)!);
    const indexB = new Map(brandB.courseIds.map((id, i) => [id, i]));
    const answersB = (await askApi(bench, brandB, learnersB, K)).map((a) => a.map((id) => indexB.get(id)!));
    const answersB50 = (await askApi(bench, brandB, learnersB, 50)).map((a) => a.map((id) => indexB.get(id)!));
    const apiB = scoreAnswers(answersB, sample, split, null, K);
    const apiB50 = scoreAnswers(answersB50, sample, split, split.train, K);

    const sampleRows: QualityRow[] = [
      {
        name: 'API, trained on every event',
        ...apiAll,
        note: 'recommendCourses(first: 10, scope: OWN) on the main brand: excludes only the courses the learner bought, enrolled in or completed, and the served model was trained on the held-out events too (not a held-out figure)',
      },
      {
        name: 'API, trained on the train part',
        ...apiB,
        note: 'the same question on the second brand, which has only the events before the cutoff: held out, but the API excludes only bought, enrolled and completed courses, so courses the learner only looked at (never held out) take places',
      },
      {
        name: 'API, trained on the train part, train courses dropped',
        ...apiB50,
        note: `recommendCourses(first: 50) on the second brand, the learner's train courses dropped, the first 10 kept: the stored metrics' protocol (${apiB50.short} answers had fewer than 10 left)`,
      },
      onSample('popularity', popularity, 'train courses excluded'),
      onSample('oracle (planted affinity)', oracle, 'train courses excluded'),
    ];
    for (const r of sampleRows) log(`sample: ${r.name}: NDCG@10 ${r.ndcg10.toFixed(4)} recall@10 ${r.recall10.toFixed(4)} (${r.learners} learners)`);

    const results: ApiResults = {
      date: now(),
      machine: machine(),
      seed,
      learners: synthetic.learners.length,
      courses: synthetic.courses.length,
      events: synthetic.events.length,
      ingest,
      trainOnly,
      training,
      trainingTrainOnly: trainingB,
      split: {
        cutoff: new Date(split.cutoff).toISOString(),
        trainPairs: split.train.learner.length,
        testPairs: heldOutPairs(split.test),
        heldOutLearners: heldOutLearners(split.test),
        matchesStored: mismatch.length === 0,
        mismatch,
      },
      rows,
      sampleRows,
      sample: sample.length,
      shortAnswers: apiB50.short,
      ease: { ran: ease.ran, note: ease.note, log: ease.log },
    };
    fs.writeFileSync(path.join(out, 'api.json'), JSON.stringify(results, null, 2));
    log(`results in ${path.join(out, 'api.json')}`);
  } finally {
    await bench.close();
  }
}

/** recommendCourses for each learner id (aliased, ALIASES a request): the course ids, best first. */
async function askApi(bench: BenchServer, brand: BenchBrand, ids: string[], first: number): Promise<string[][]> {
  const out: string[][] = [];
  for (let start = 0; start < ids.length; start += ALIASES) {
    const chunk = ids.slice(start, start + ALIASES);
    const query = `{ ${chunk.map((id, j) => `r${j}: recommendCourses(learnerId: "${id}", first: ${first}, scope: OWN) { course { id } score reason }`).join(' ')} }`;
    const data = await graphql(bench.url, brand.owner, query);
    chunk.forEach((_id, j) => out.push((data[`r${j}`] as { course: { id: string } }[]).map((r) => r.course.id)));
  }
  return out;
}

/**
 * NDCG@k and recall@k of ranked answers (course indexes, best first) for
 * the sampled learner rows, as src/ml/train/evaluate.ts computes them; with
 * `drop`, each learner's train items are removed first.
 */
function scoreAnswers(answers: number[][], sample: number[], split: Split, drop: Interactions | null, k: number): { ndcg10: number; recall10: number; learners: number; short: number } {
  const trainItems = new Map<number, Set<number>>();
  if (drop) for (let p = 0; p < drop.learner.length; p++) (trainItems.get(drop.learner[p]) ?? trainItems.set(drop.learner[p], new Set()).get(drop.learner[p])!).add(drop.item[p]);
  let ndcg = 0;
  let recall = 0;
  let short = 0;
  sample.forEach((l, s) => {
    const held = new Set(split.test.item.subarray(split.test.offsets[l], split.test.offsets[l + 1]));
    const skip = trainItems.get(l);
    const top = answers[s].filter((i) => !skip?.has(i)).slice(0, k);
    if (top.length < k) short++;
    let dcg = 0;
    let hits = 0;
    top.forEach((i, r) => {
      if (held.has(i)) {
        dcg += 1 / Math.log2(r + 2);
        hits++;
      }
    });
    const ideal = Math.min(k, held.size);
    let idcg = 0;
    for (let r = 0; r < ideal; r++) idcg += 1 / Math.log2(r + 2);
    ndcg += dcg / idcg;
    recall += hits / ideal;
  });
  return { ndcg10: ndcg / sample.length, recall10: recall / sample.length, learners: sample.length, short };
}

/** The held-out items of `rows` only. */
function subsetHeldOut(test: HeldOut, rows: number[]): HeldOut {
  const keep = new Uint8Array(test.learners);
  for (const l of rows) keep[l] = 1;
  const offsets = new Int32Array(test.learners + 1);
  const items: number[] = [];
  for (let l = 0; l < test.learners; l++) {
    if (keep[l]) for (let p = test.offsets[l]; p < test.offsets[l + 1]; p++) items.push(test.item[p]);
    offsets[l + 1] = items.length;
  }
  return { learners: test.learners, items: test.items, offsets, item: Int32Array.from(items) };
}

// --- EASE and item-kNN (bench/ml/ease.py) on the same split ----------------------------------------

/**
 * Writes the split in the files bench/ml/ease.py reads (the format
 * bench/ml/offline.ts writes: train pairs with weights, held-out pairs, and
 * an inner split of the train part for tuning) and runs it.
 */
function runEase(out: string, columns: EventColumns, split: Split): { ran: boolean; note: string; rows: QualityRow[]; log?: string } {
  const script = path.resolve(__dirname, '..', '..', '..', 'bench', 'ml', 'ease.py');
  if (!fs.existsSync(script)) return { ran: false, note: 'bench/ml/ease.py is not there', rows: [] };
  const dir = path.join(out, 'split');
  fs.mkdirSync(dir, { recursive: true });
  writePairs(path.join(dir, 'train.csv'), split.train);
  writeHeldOut(path.join(dir, 'test.csv'), split.test);
  const inner = splitByTime(subset(columns, (e) => columns.time[e] < split.cutoff));
  writePairs(path.join(dir, 'inner-train.csv'), inner.train);
  writeHeldOut(path.join(dir, 'inner-test.csv'), inner.test);
  const python = process.env.BENCH_PYTHON || 'python3';
  const run = spawnSync(python, [script, dir], { encoding: 'utf8', timeout: 180_000 });
  if (run.error || run.status !== 0) {
    return { ran: false, note: `${python} bench/ml/ease.py failed: ${String(run.error ?? run.stderr).trim().split('\n').slice(-3).join(' ')}`, rows: [] };
  }
  const rows: QualityRow[] = [];
  for (const line of run.stdout.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // | model | NDCG@10 | recall@10 | learners | fit s |
    if (cells.length >= 6 && /^(EASE|item-kNN)/.test(cells[1])) {
      rows.push({ name: cells[1], ndcg10: Number(cells[2]), recall10: Number(cells[3]), learners: Number(cells[4]), note: `bench/ml/ease.py (tuned on an inner split of the train part; fit ${cells[5]} s)` });
    }
  }
  if (rows.length === 0) return { ran: false, note: `bench/ml/ease.py printed no EASE rows: ${run.stdout.slice(0, 300)}`, rows };
  return { ran: true, note: 'bench/ml/ease.py', rows, log: run.stderr.trim() };
}


const fmt = (v: unknown) => (typeof v === 'number' ? v.toFixed(4) : String(v));

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
