/**
 * Catalog benchmark: a brand's catalog page (`courses(first: 50)` with price
 * and owner) served by the real Allied server, against the floor of the same
 * SQL statements issued straight through the `pg` driver.
 *
 * For each database (embedded PGlite; PostgreSQL when BENCH_DATABASE_URL is
 * set) it seeds two brands of 200 courses each, loads the server with
 * autocannon, then drives the statements the server issued for one such
 * request at the same concurrency for the same time. On PostgreSQL it also
 * loads PostGraphile 5 over the same database (bench/peers/postgraphile), in
 * rounds alternating with Allied's. The numbers go into the `## catalog`
 * section of bench/RESULTS.md.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/catalog.js
 *
 * Environment: BENCH_DATABASE_URL (a PostgreSQL server on which a throwaway
 * database is created and dropped), BENCH_DURATION (seconds, default 20),
 * BENCH_CONNECTIONS (default 32), BENCH_WARMUP (seconds, default 5),
 * BENCH_EMBEDDED=0 to skip the embedded database, BENCH_PEER=0 to skip the
 * PostGraphile peer, BENCH_ROUNDS (alternating rounds, default 2).
 */
// First: the libraries below read NODE_ENV as they load.
import './production-env';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { loadConfig, type Config } from '../src/config';
import { openDatabase, type Database } from '../src/db/database';
import { createLogger } from '../src/logger';
import { startServer, type RunningServer } from '../src/server';
import { resolveJwtKeys, signToken, type JwtKeys } from '../src/tenancy/credentials';
import { Role } from '../src/tenancy/roles';
import { benchAgreement, benchAlliance, benchBrands, machine, nonNegativeInt, now, positiveInt, RESULTS_FILE, throwawayDatabase, writeSection } from './support';

const JWT_SECRET = 'allied-bench-secret-0123456789-abcdefghij';
const COURSES_PER_BRAND = 200;
const PAGE = 50;
const CATALOG_QUERY = `{ courses(first: ${PAGE}) { edges { node { id title price { amountMinor currency } owner { name } } } } }`;
/**
 * The same page from PostGraphile's generated schema: the caller's courses (RLS, as for Allied), newest first,
 * with the price's columns and the owning brand's name through the foreign key.
 */
const PEER_QUERY = `{ allCourses(first: ${PAGE}, orderBy: [CREATED_AT_DESC, PRIMARY_KEY_DESC]) { edges { node { id title priceMinor currency brandByTenantId { name } } } } }`;
const PEER_DIR = path.resolve(__dirname, '..', '..', 'bench', 'peers', 'postgraphile');

const duration = positiveInt('BENCH_DURATION', 20);
const connections = positiveInt('BENCH_CONNECTIONS', 32);
const warmup = nonNegativeInt('BENCH_WARMUP', 5);
const postgresUrl = process.env.BENCH_DATABASE_URL || undefined;
const runEmbedded = !/^(0|false|no|off)$/i.test(process.env.BENCH_EMBEDDED ?? '');
const runPeer = !/^(0|false|no|off)$/i.test(process.env.BENCH_PEER ?? '');
const rounds = positiveInt('BENCH_ROUNDS', 2);


interface Statement {
  text: string;
  values?: unknown[];
}

interface Load {
  requests: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** Failed, non-2xx, timed-out or wrong-body responses (server), failed iterations (floor). */
  failures: number;
}

interface Outcome {
  database: string;
  scenario: string;
  version: string;
  poolSize: number;
  /** Allied in each round; on PostgreSQL each round is Allied, then PostGraphile. */
  server: Load[];
  peer: Load[];
  floor: Load;
  statements: Statement[];
}

async function main(): Promise<void> {
  const outcomes: Outcome[] = [];
  if (runEmbedded) outcomes.push(...(await measure('embedded')));
  if (postgresUrl) outcomes.push(...(await measure('postgres')));
  else console.log('BENCH_DATABASE_URL is not set: PostgreSQL is skipped.');
  if (outcomes.length === 0) throw new Error('Nothing to measure: BENCH_EMBEDDED=0 and no BENCH_DATABASE_URL.');
  writeResults(outcomes);
  console.log(`\n${table(outcomes)}\nWritten to ${path.relative(process.cwd(), RESULTS_FILE)}.`);
}

/** A page read the same way by Allied and by the peer, and what its rows must be. */
interface Scenario {
  name: string;
  query: string;
  peerQuery: string;
  /** Throws when Allied's page is not the expected one. */
  check(edges: { node: { title: string; owner: { name: string } } }[]): void;
}

const OWN_PAGE: Scenario = {
  name: 'own catalog',
  query: CATALOG_QUERY,
  peerQuery: PEER_QUERY,
  check(edges) {
    const foreign = edges.filter((e) => e.node.owner.name !== 'Northwind Academy');
    if (foreign.length > 0) throw new Error(`the page holds ${foreign.length} courses of another brand`);
  },
};

/**
 * The brand's catalog in the ALLIANCE scope (its own courses and the joint courses of its two ACTIVE alliances)
 * among ALLIANCE_SCENARIO_COURSES courses. For the peer, row-level security shows exactly those: the partners'
 * own courses are not PUBLISHED, so the partner policy adds none, and PostGraphile's plain list is the same set.
 */
const ALLIANCE_PAGE: Scenario = {
  name: 'ALLIANCE scope, 10,000 courses',
  query: `{ courses(first: ${PAGE}, filter: { scope: ALLIANCE }) { edges { node { id title price { amountMinor currency } owner { name } } } } }`,
  peerQuery: PEER_QUERY,
  check(edges) {
    const owners = new Set(edges.map((e) => e.node.owner.name));
    if (![...owners].every((o) => ['Northwind Academy', 'eastgate club', 'westfield league'].includes(o))) {
      throw new Error(`the ALLIANCE page holds courses of brands outside the alliances: ${[...owners].join(', ')}`);
    }
    if (owners.size < 2) throw new Error(`the ALLIANCE page holds only ${[...owners].join('')}'s courses: no joint course`);
  },
};
const ALLIANCE_SCENARIO_COURSES = 10_000;
const JOINT_PER_ALLIANCE = 150;

/** One database, end to end: open, serve, seed, then per scenario load the server (and the peer) and the floor; close. */
async function measure(kind: 'embedded' | 'postgres'): Promise<Outcome[]> {
  console.log(`\n== ${kind}`);
  const store = await openStore(kind);
  let server: RunningServer | undefined;
  try {
    const { config, database } = store;
    server = await startServer(config, database, createLogger(config.logLevel));
    const keys = resolveJwtKeys(config);
    const api = new Api(server.url);
    const owner = await seed(api, keys);
    const peer = kind === 'postgres' && runPeer ? await startPeer(databaseUrlOf(database), config.databasePoolSize) : undefined;
    try {
      const outcomes = [await measureScenario(kind, OWN_PAGE, server.url, owner, config.databasePoolSize, database, peer)];
      if (kind === 'postgres') {
        await seedAlliances(api, keys, owner, databaseUrlOf(database));
        outcomes.push(await measureScenario(kind, ALLIANCE_PAGE, server.url, owner, config.databasePoolSize, database, peer));
      }
      return outcomes;
    } finally {
      await peer?.stop();
    }
  } finally {
    await server?.stop();
    await store.close();
  }
}

async function measureScenario(
  kind: 'embedded' | 'postgres',
  scenario: Scenario,
  serverUrl: string,
  owner: string,
  configuredPool: number,
  database: Database,
  peer: Peer | undefined,
): Promise<Outcome> {
  console.log(`-- ${scenario.name}`);
  const api = new Api(serverUrl);
  const { body, statements } = await verify(api, owner, scenario);
  console.log(`statements per request (${statements.length}):`);
  for (const s of statements) console.log(`  ${oneLine(s.text)}  ${JSON.stringify(s.values ?? [])}`);
  const peerBody = peer ? await verifyPeer(peer.url, owner, body, scenario.peerQuery) : '';
  const serverLoads: Load[] = [];
  const peerLoads: Load[] = [];
  // Alternating rounds: Allied, then the peer, on the same database and data.
  for (let round = 1; round <= rounds; round++) {
    serverLoads.push(await loadServer(serverUrl, owner, scenario.query, body));
    console.log(`round ${round} server: ${describe(serverLoads[serverLoads.length - 1])}`);
    if (peer) {
      peerLoads.push(await loadServer(peer.url, owner, scenario.peerQuery, peerBody));
      console.log(`round ${round} PostGraphile: ${describe(peerLoads[peerLoads.length - 1])}`);
    }
  }
  const poolSize = kind === 'embedded' ? 1 : configuredPool;
  const floorPool = new pg.Pool({ connectionString: databaseUrlOf(database), max: poolSize });
  // Dropping the database afterwards terminates idle connections; that is not a failure.
  floorPool.on('error', () => undefined);
  try {
    const [{ version }] = (await floorPool.query<{ version: string }>('select version()')).rows;
    const floorLoad = await loadFloor(floorPool, statements);
    console.log(`floor:  ${describe(floorLoad)}`);
    console.log(`floor ÷ server: ${(floorLoad.perSecond / best(serverLoads)).toFixed(2)}`);
    return { database: kind, scenario: scenario.name, version, poolSize, server: serverLoads, peer: peerLoads, floor: floorLoad, statements };
  } finally {
    await floorPool.end();
  }
}

/**
 * For the ALLIANCE scenario: two partner brands, each in an ACTIVE alliance with the owner's brand (through the
 * API), JOINT_PER_ALLIANCE joint courses in each, and unallied brands' courses until the database holds
 * ALLIANCE_SCENARIO_COURSES (those two by SQL, as the database owner); then every course a distinct creation
 * time over the last hour, in a pseudo-random order, so that the page mixes own and joint courses.
 */
async function seedAlliances(api: Api, keys: JwtKeys, owner: string, databaseUrl: string): Promise<void> {
  const ownerBrand = (await api.post(owner, '{ me { brand { id } } }')).data.me.brand.id as string;
  const lead = { id: ownerBrand, token: owner };
  const partners = await benchBrands(api.url, keys, ['eastgate-club', 'westfield-league']);
  const others = await benchBrands(api.url, keys, ['unallied-one', 'unallied-two', 'unallied-three']);
  const alliances: string[] = [];
  for (const [i, partner] of partners.entries()) {
    const allianceId = await benchAlliance(api.url, lead, [partner], `Bench alliance ${i + 1}`);
    await benchAgreement(api.url, [lead, partner], allianceId, '2026-01-01T00:00:00Z', [5000, 5000]);
    alliances.push(allianceId);
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const insert = (tenant: string, alliance: string | null, count: number, label: string) =>
      client.query(
        `insert into courses (tenant_id, id, alliance_id, title, topics, level, format, price_minor, currency)
         select $1, gen_random_uuid(), $2, $3 || ' course ' || g, array['python'], 'BEGINNER', 'VIDEO', 1000 + g, 'USD'
         from generate_series(1, $4) g`,
        [tenant, alliance, label, count],
      );
    for (const [i, partner] of partners.entries()) {
      await insert(partner.id, alliances[i], JOINT_PER_ALLIANCE / 2, `Joint ${i + 1} partner`);
      await insert(ownerBrand, alliances[i], JOINT_PER_ALLIANCE / 2, `Joint ${i + 1} lead`);
    }
    const [{ n }] = (await client.query<{ n: number }>('select count(*)::int as n from courses')).rows;
    const rest = ALLIANCE_SCENARIO_COURSES - n;
    for (const [i, other] of others.entries()) await insert(other.id, null, Math.ceil(rest / others.length), `Unallied ${i + 1}`);
    // Every course of the database a distinct creation time over the last hour, in an order fixed by its id's hash:
    // the page mixes own and joint courses, and no two ties, so ordering by time then id or by time then key agrees.
    await client.query(
      `update courses c set created_at = now() - make_interval(secs => r.k * 0.36)
       from (select tenant_id, id, row_number() over (order by md5(id::text)) as k from courses) r
       where c.tenant_id = r.tenant_id and c.id = r.id`,
    );
    await client.query('analyze courses');
    const [{ total }] = (await client.query<{ total: number }>('select count(*)::int as total from courses')).rows;
    console.log(`seeded 2 ACTIVE alliances with ${JOINT_PER_ALLIANCE} joint courses each; ${total} courses in the database`);
  } finally {
    await client.end();
  }
}

interface Store {
  config: Config;
  database: Database;
  close(): Promise<void>;
}

/** A fresh database with Allied's schema: PGlite in a temporary folder, or a new database on the PostgreSQL server. */
async function openStore(kind: 'embedded' | 'postgres'): Promise<Store> {
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    JWT_SECRET,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ALLIED_DEMO: 'false',
    // Production requires the secret that signs email links.
    ALLIED_TRACKING_SECRET: 'allied-bench-tracking-secret-0123456789abcdefghij',
    // The per-address and per-brand request rates (200 and 100 a second by default) would refuse the load itself.
    ALLIED_RATE_LIMIT_PER_IP: '0',
    ALLIED_RATE_LIMIT_PER_BRAND: '0',
  };
  if (kind === 'embedded') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'allied-bench-'));
    const config = loadConfig({ ...env, ALLIED_DATA_DIR: dir });
    const database = await openDatabase(
      { databaseUrl: undefined, databasePoolSize: 1, dataDir: dir },
      { embeddedDir: path.join(dir, 'pgdata') },
    );
    return {
      config,
      database,
      async close() {
        await database.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const db = await throwawayDatabase(postgresUrl as string);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'allied-bench-'));
  try {
    const config = loadConfig({ ...env, DATABASE_URL: db.url, ALLIED_DATA_DIR: dir });
    const database = await openDatabase(config);
    return {
      config,
      database,
      async close() {
        await database.close();
        await db.drop();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function databaseUrlOf(database: Database): string {
  return (database.dataSource.options as { url?: string }).url as string;
}

const best = (loads: Load[]) => Math.max(...loads.map((l) => l.perSecond));

interface Peer {
  url: string;
  stop(): Promise<void>;
}

/**
 * PostGraphile 5 over the same database (bench/peers/postgraphile/serve.cjs) in a process of its own: installed
 * into its folder from its own lockfile on first use, connected as the benchmark's database user, answering each
 * operation as the role allied_app with the token's brand in app.tenant_id, from a pool of the server's size.
 */
async function startPeer(databaseUrl: string, poolSize: number): Promise<Peer> {
  if (!fs.existsSync(path.join(PEER_DIR, 'node_modules', 'postgraphile'))) {
    console.log('installing the PostGraphile peer (bench/peers/postgraphile, npm ci)');
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: PEER_DIR, stdio: 'inherit' });
  }
  const child = spawn(process.execPath, ['serve.cjs'], {
    cwd: PEER_DIR,
    env: { ...process.env, NODE_ENV: 'production', DATABASE_URL: databaseUrl, JWT_SECRET, POOL_SIZE: String(poolSize), PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  // Its output is read to the end, so that it never blocks on a full pipe.
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /ready (http:\/\/\S+)/.exec(output);
      if (ready) resolve(ready[1]);
    });
    void exited.then((code) => reject(new Error(`the PostGraphile peer exited (${code}): ${output.slice(-2000)}`)));
  });
  console.log(`PostGraphile peer at ${url}`);
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The peer's page must hold the same 50 courses, in the same order, with the same titles, prices and owners, as Allied's. */
async function verifyPeer(url: string, owner: string, alliedBody: string, query: string): Promise<string> {
  const { text, data } = await new Api(url).post(owner, query);
  type Row = { title: string; price: string; owner: string };
  const ours: Row[] = JSON.parse(alliedBody).data.courses.edges.map((e: any) => ({
    title: e.node.title,
    price: `${e.node.price.amountMinor} ${e.node.price.currency}`,
    owner: e.node.owner.name,
  }));
  const theirs: Row[] = data.allCourses.edges.map((e: any) => ({ title: e.node.title, price: `${e.node.priceMinor} ${e.node.currency}`, owner: e.node.brandByTenantId.name }));
  if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
    const at = ours.findIndex((row, i) => JSON.stringify(row) !== JSON.stringify(theirs[i]));
    console.log(`first difference at row ${at}:`, JSON.stringify(ours.slice(Math.max(0, at - 1), at + 3)), JSON.stringify(theirs.slice(Math.max(0, at - 1), at + 3)));
    throw new Error(`PostGraphile's page differs from Allied's: ${JSON.stringify(theirs.slice(0, 3))}… against ${JSON.stringify(ours.slice(0, 3))}…`);
  }
  return text;
}

/** GraphQL over HTTP, failing on any error. */
class Api {
  constructor(readonly url: string) {}

  async post(token: string, query: string, variables?: Record<string, unknown>): Promise<{ text: string; data: any }> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const text = await res.text();
    const body = JSON.parse(text) as { data?: any; errors?: unknown[] };
    if (res.status !== 200 || body.errors?.length) {
      throw new Error(`GraphQL request failed (${res.status}): ${text.slice(0, 500)}`);
    }
    return { text, data: body.data };
  }
}

/**
 * Two brands with 200 courses each, created the way a platform admin and a
 * brand's editors would: through the API. The second brand's courses share
 * the table, so every catalog read depends on the tenant filter and RLS.
 * Returns an OWNER token of the first brand.
 */
async function seed(api: Api, keys: JwtKeys): Promise<string> {
  const admin = signToken(keys, { sub: 'bench-admin', roles: [Role.PLATFORM_ADMIN] }, 24 * 3600);
  const tokens: string[] = [];
  for (const name of ['Northwind Academy', 'Southbank Studio']) {
    const slug = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${crypto.randomBytes(3).toString('hex')}`;
    const { data } = await api.post(
      admin,
      `mutation($input: CreateBrandInput!) { createBrand(input: $input) { id } }`,
      { input: { slug, name, kind: 'KNOWLEDGE_PLATFORM' } },
    );
    const token = signToken(keys, { sub: `bench-owner-${slug}`, tid: data.createBrand.id, roles: [Role.OWNER] }, 24 * 3600);
    tokens.push(token);
    const levels = ['BEGINNER', 'INTERMEDIATE', 'ADVANCED'];
    const formats = ['VIDEO', 'AUDIO', 'ARTICLE', 'LIVE', 'BUNDLE'];
    for (let i = 0; i < COURSES_PER_BRAND; i++) {
      await api.post(token, `mutation($input: CreateCourseInput!) { createCourse(input: $input) { id } }`, {
        input: {
          title: `${name} course ${String(i + 1).padStart(3, '0')}`,
          description: `Lesson plan ${i + 1} of the ${name} catalog.`,
          topics: ['python', `track-${i % 7}`],
          level: levels[i % levels.length],
          format: formats[i % formats.length],
          price: { amountMinor: 1000 + 25 * i, currency: i % 2 ? 'USD' : 'EUR' },
        },
      });
    }
  }
  console.log(`seeded 2 brands × ${COURSES_PER_BRAND} courses`);
  return tokens[0];
}

/**
 * One catalog request: it must return a full page of the caller's own courses
 * and no errors. The statements it sent to the database (captured at the `pg`
 * driver, with their parameters) become the floor's workload, and its body
 * what every loaded response must equal.
 */
async function verify(api: Api, owner: string, scenario: Scenario): Promise<{ body: string; statements: Statement[] }> {
  const statements: Statement[] = [];
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, config: unknown, values?: unknown, ...rest: unknown[]) {
    const text = typeof config === 'string' ? config : (config as { text?: string }).text;
    const params = typeof config === 'string' ? values : ((config as { values?: unknown }).values ?? values);
    if (text !== undefined) {
      statements.push({ text, values: Array.isArray(params) ? [...(params as unknown[])] : undefined });
    }
    return (query as (...args: unknown[]) => unknown).call(this, config, values, ...rest);
  } as typeof query;
  let result: { text: string; data: any };
  try {
    result = await api.post(owner, scenario.query);
  } finally {
    pg.Client.prototype.query = query;
  }
  const edges = result.data.courses.edges as { node: { title: string; owner: { name: string } } }[];
  if (edges.length !== PAGE) throw new Error(`expected ${PAGE} edges, got ${edges.length}`);
  scenario.check(edges);
  if (statements.length === 0) throw new Error('no SQL was captured for the catalog request');
  return { body: result.text, statements };
}

/** A server (Allied or the peer) under autocannon, in a worker thread so it does not share Allied's event loop. */
async function loadServer(url: string, owner: string, query: string, body: string): Promise<Load> {
  const options = {
    url,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${owner}` },
    body: JSON.stringify({ query }),
    connections,
    workers: 1,
  };
  if (warmup > 0) await autocannon({ ...options, duration: warmup });
  const result = await autocannon({ ...options, duration, expectBody: body });
  const requests = result.requests.total;
  const failures = result.errors + result.timeouts + result.non2xx + result.mismatches;
  return {
    requests,
    seconds: result.duration,
    perSecond: requests / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures,
  };
}

/**
 * The floor: the server's statements for one request, in one pooled
 * connection per iteration, from `connections` concurrent loops.
 */
async function loadFloor(pool: pg.Pool, statements: Statement[]): Promise<Load> {
  // The first iteration must read what the server read.
  const check = await iteration(pool, statements);
  const pageRows = check.find((rows) => rows === PAGE + 1);
  if (pageRows === undefined) throw new Error(`the floor's statements returned ${JSON.stringify(check)} rows, no page of ${PAGE + 1}`);

  const run = async (seconds: number, latencies: number[] | null) => {
    let done = 0;
    let failures = 0;
    const until = performance.now() + seconds * 1000;
    const loop = async () => {
      while (performance.now() < until) {
        const started = performance.now();
        try {
          await iteration(pool, statements);
          done++;
          latencies?.push(performance.now() - started);
        } catch {
          failures++;
        }
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: connections }, loop));
    return { done, failures, seconds: (performance.now() - started) / 1000 };
  };

  if (warmup > 0) await run(warmup, null);
  const latencies: number[] = [];
  const { done, failures, seconds } = await run(duration, latencies);
  latencies.sort((a, b) => a - b);
  return {
    requests: done,
    seconds,
    perSecond: done / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    failures,
  };
}

/** One request's worth of statements on one connection; the row counts. */
async function iteration(pool: pg.Pool, statements: Statement[]): Promise<number[]> {
  const client = await pool.connect();
  try {
    const counts: number[] = [];
    for (const s of statements) counts.push((await client.query(s.text, s.values)).rowCount ?? 0);
    return counts;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

function describe(load: Load): string {
  return (
    `${load.perSecond.toFixed(0)} req/s, p50 ${ms(load.p50)} ms, p99 ${ms(load.p99)} ms ` +
    `(${load.requests} in ${load.seconds.toFixed(1)} s, ${load.failures} failed)`
  );
}

const ms = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(2));
const oneLine = (sql: string) => sql.replace(/\s+/g, ' ').trim();

function table(outcomes: Outcome[]): string {
  const rows = [
    '| scenario | database | pool | round | server req/s | server p50 ms | server p99 ms | PostGraphile req/s | PostGraphile p99 ms | server ÷ PostGraphile | floor req/s | floor p99 ms | floor ÷ server |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const o of outcomes) {
    o.server.forEach((server, i) => {
      const peer = o.peer[i];
      rows.push(
        `| ${o.scenario} | ${o.database === 'embedded' ? 'embedded (PGlite)' : 'PostgreSQL'} | ${o.poolSize} | ${i + 1} | ` +
          `${server.perSecond.toFixed(0)} | ${ms(server.p50)} | ${ms(server.p99)} | ` +
          `${peer ? peer.perSecond.toFixed(0) : '–'} | ${peer ? ms(peer.p99) : '–'} | ${peer ? (server.perSecond / peer.perSecond).toFixed(2) : '–'} | ` +
          `${o.floor.perSecond.toFixed(0)} | ${ms(o.floor.p99)} | ${(o.floor.perSecond / server.perSecond).toFixed(2)} |`,
      );
    });
  }
  return rows.join('\n');
}

/** Replaces the `## catalog` section of RESULTS.md (creating the file if needed), leaving other sections alone. */
function writeResults(outcomes: Outcome[]): void {
  const failures = outcomes.flatMap((o) => [
    `${o.database} ${o.scenario}: server ${o.server.map((l) => l.failures).join('+')}`,
    ...(o.peer.length ? [`PostGraphile ${o.peer.map((l) => l.failures).join('+')}`] : []),
    `floor ${o.floor.failures}`,
  ]);
  const statements = outcomes[0].statements.map((s) => `\`${abbreviate(oneLine(s.text))}\``).join('; ');
  const section = [
    '## catalog',
    '',
    'A brand OWNER reads the first page of its catalog (own catalog: the brand has no alliance):',
    '',
    '```graphql',
    CATALOG_QUERY,
    '```',
    '',
    `and, on PostgreSQL, the same page once the brand is in two ACTIVE alliances (ALLIANCE scope: its own courses and both alliances' joint ones):`,
    '',
    '```graphql',
    ALLIANCE_PAGE.query,
    '```',
    '',
    `- Date: ${now()}`,
    `- Machine: ${machine()}`,
    ...outcomes.map((o) => `- ${o.database === 'embedded' ? 'Embedded database' : 'PostgreSQL'}: ${o.version.split(', compiled by')[0]}`),
    `- Data: 2 brands × ${COURSES_PER_BRAND} courses through the API; the page is ${PAGE} of the caller's ${COURSES_PER_BRAND}. For the ALLIANCE scope, ` +
      `two partner brands and two ACTIVE alliances through the API, ${JOINT_PER_ALLIANCE} joint courses in each and unallied brands' courses by SQL ` +
      `up to ${ALLIANCE_SCENARIO_COURSES.toLocaleString('en')} courses in all, each then given a distinct creation time in a pseudo-random order ` +
      `(partners' own courses are not PUBLISHED, so PostGraphile's list under RLS is the same set).`,
    `- Load: ${connections} concurrent connections (server: autocannon in a worker thread; floor: ${connections} loops), ` +
      `${duration} s measured after ${warmup} s of warm-up; connection pool of the size the server uses.`,
    `- Floor: per iteration, one pooled \`pg\` connection runs the server's statements for one request of the scenario, ` +
      `with the same parameters (own catalog: ${statements}).`,
    `- Peer (PostgreSQL): PostGraphile 5.1.5, amber preset (bench/peers/postgraphile), in its own process, same database, ` +
      `same JWT verified per request, each operation in one transaction as allied_app with app.tenant_id set (pgSettings), ` +
      `pool of the server's size. Its query for both scenarios, checked to return the same 50 courses, in the same order, with the same prices and owners:`,
    '',
    '```graphql',
    PEER_QUERY,
    '```',
    '',
    `- Rounds: ${rounds}, alternating Allied and PostGraphile; the floor once after them. Allied's request-rate limits are off ` +
      `(ALLIED_RATE_LIMIT_PER_IP=0, ALLIED_RATE_LIMIT_PER_BRAND=0): by default they cap one brand at 100 requests a second.`,
    `- Failed requests or iterations: ${failures.join(', ')}.`,
    '- Server latencies come from autocannon in whole milliseconds; the floor\'s are measured to the microsecond.',
    '',
    table(outcomes),
    '',
  ].join('\n');

  writeSection('catalog', section);
}

function abbreviate(sql: string): string {
  return sql.length > 60 ? `${sql.slice(0, 57)}...` : sql;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
