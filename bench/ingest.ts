/**
 * Ingest benchmark: sustained NDJSON ingestion (`POST /ingest`) into the real
 * Allied server, against the floor of a plain `COPY` of the same rows into
 * the same `events` table.
 *
 * For each database (PostgreSQL when BENCH_DATABASE_URL is set; embedded
 * PGlite unless BENCH_EMBEDDED=0) it:
 *
 *  1. starts the server as a child process (`node bin/allied.js serve`, which
 *     applies the migrations), so the RSS measured is the server's alone;
 *  2. seeds, through GraphQL, two brands with courses, campaigns and creatives;
 *  3. streams generated NDJSON events (never held in memory as a whole) in
 *     BENCH_STREAMS concurrent clients, each sending consecutive uploads of
 *     BENCH_UPLOAD_EVENTS lines with an INGEST token of its brand, sampling
 *     the server's RSS (/proc/<pid>/status) and CPU time throughout;
 *  4. checks every summary (all accepted; no duplicates, rejections or cuts)
 *     and that `select count(*) from events` equals the number sent;
 *  5. stops the server, then runs the floor: as the database superuser, the
 *     stored rows are copied out (`COPY events TO`), the table is truncated
 *     (same table: same indexes, constraints, foreign keys, RLS) and the rows
 *     are timed going back in with one `COPY events FROM` (psql's `\copy`
 *     over the wire on PostgreSQL; `COPY ... FROM '/dev/blob'` on PGlite).
 *
 * The numbers go into the `## ingest` section of bench/RESULTS.md.
 *
 *   npx tsc -p tsconfig.json && BENCH_DATABASE_URL=postgres://... node dist/bench/ingest.js
 *
 * Environment: BENCH_EVENTS (default 1000000), BENCH_EMBEDDED_EVENTS (default
 * BENCH_EVENTS), BENCH_DATABASE_URL, BENCH_EMBEDDED=0, BENCH_STREAMS (4),
 * BENCH_UPLOAD_EVENTS (50000), BENCH_LEARNERS (3000 per brand),
 * BENCH_CPU_PROF=1 (profile the server with --cpu-prof and summarise it),
 * BENCH_SQL_TIMING=1 (time every SQL statement the server sends, by statement),
 * BENCH_PSQL (psql binary, default `psql`), BENCH_POOL_SIZE (the server's
 * DATABASE_POOL_SIZE; default: the server's own default).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import pg from 'pg';
import { loadConfig } from '../src/config';
import { resolveJwtKeys, signToken, type JwtKeys } from '../src/tenancy/credentials';
import { Role } from '../src/tenancy/roles';
import { BENCH_TRACKING_SECRET, machine, now, positiveInt, readSection, RESULTS_FILE, serverNodeFlags, throwawayDatabase, writeSection } from './support';

const JWT_SECRET = 'allied-bench-secret-0123456789-abcdefghij';
const ROOT = path.resolve(__dirname, '..', '..');
const SECTION = 'ingest';
const ANALYSIS_HEADING = "### Where the server's time goes";

const BRANDS = ['Northwind Academy', 'Harborview Sports'];
const COURSES_PER_BRAND = 20;
const CAMPAIGNS_PER_BRAND = 3;
const CREATIVES_PER_CAMPAIGN = 2;

/** The event mix, in percent: mostly top-of-funnel, some money, ratings and feedback. */
const MIX: [type: string, percent: number][] = [
  ['IMPRESSION', 40],
  ['CLICK', 15],
  ['VIEW', 25],
  ['ENROLL', 5],
  ['PURCHASE', 5],
  ['RATING', 4],
  ['COMPLETE', 4],
  ['FEEDBACK', 2],
];

const events = positiveInt('BENCH_EVENTS', 1_000_000);
const embeddedEvents = positiveInt('BENCH_EMBEDDED_EVENTS', events);
const streams = positiveInt('BENCH_STREAMS', 4);
const uploadEvents = positiveInt('BENCH_UPLOAD_EVENTS', 50_000);
const learnersPerBrand = positiveInt('BENCH_LEARNERS', 3000);
const cpuProfile = /^(1|true|yes|on)$/i.test(process.env.BENCH_CPU_PROF ?? '');
const sqlTiming = /^(1|true|yes|on)$/i.test(process.env.BENCH_SQL_TIMING ?? '');
const psql = process.env.BENCH_PSQL || 'psql';
const poolSize = process.env.BENCH_POOL_SIZE || undefined;
const postgresUrl = process.env.BENCH_DATABASE_URL || undefined;
const runEmbedded = !/^(0|false|no|off)$/i.test(process.env.BENCH_EMBEDDED ?? '');
const CLK_TCK = clockTicks();

type Kind = 'postgres' | 'embedded';

interface Outcome {
  database: Kind;
  version: string;
  settings: string;
  pool: string;
  events: number;
  bytes: number;
  uploads: number;
  seconds: number;
  perSecond: number;
  copySeconds: number;
  copyPerSecond: number;
  rss: { before: number; peak: number; end: number };
  cpu: { server: number; postgres: number | null; client: number; machineBusy: number; cores: number };
  learners: number;
  /** The code the server ran: commit, uncommitted changes and a fingerprint of the build, taken when it started. */
  code: string;
  /** CPU profile and SQL timing summaries, when asked for. */
  analysis?: string;
}

async function main(): Promise<void> {
  if (!postgresUrl && !runEmbedded) throw new Error('Nothing to measure: BENCH_EMBEDDED=0 and no BENCH_DATABASE_URL.');
  // Written after each database, so a failure on the second keeps the first's numbers.
  const outcomes: Outcome[] = [];
  if (postgresUrl) {
    outcomes.push(await measure('postgres', events));
    writeResults(outcomes);
  } else console.log('BENCH_DATABASE_URL is not set: PostgreSQL is skipped.');
  if (runEmbedded) {
    outcomes.push(await measure('embedded', embeddedEvents));
    writeResults(outcomes);
  }
  console.log(`\n${table(outcomes)}\n\n${targets(outcomes).join('\n')}\nWritten to ${path.relative(process.cwd(), RESULTS_FILE)}.`);
}

// --- one database ------------------------------------------------------------------

async function measure(kind: Kind, count: number): Promise<Outcome> {
  console.log(`\n== ${kind}: ${count} events`);
  const store = await openStore(kind);
  let server: ServerProcess | undefined;
  try {
    const port = await freePort();
    const code = codeVersion();
    server = await ServerProcess.start(port, store.env);
    const keys = resolveJwtKeys(loadConfig({ NODE_ENV: 'production', JWT_SECRET, ALLIED_TRACKING_SECRET: BENCH_TRACKING_SECRET }));
    const base = `http://127.0.0.1:${port}`;
    const brands = await seed(new Api(`${base}/graphql`), keys);

    const pids = await store.backendPids();
    const before = {
      rss: server.memory().rss,
      server: server.cpuSeconds(),
      postgres: cpuOf(pids),
      client: process.cpuUsage(),
      machine: machineCpu(),
      at: process.hrtime.bigint(),
    };
    await server.sqlTimings(); // resets the statement timings: only ingestion counts
    const sampler = server.sampleMemory(200);
    const progress = setInterval(() => {
      const s = Number(process.hrtime.bigint() - before.at) / 1e9;
      console.log(
        `  ${s.toFixed(0)} s: ${uploaded.lines} lines sent (${(uploaded.lines / s).toFixed(0)}/s), ` +
          `${uploaded.events} acknowledged, server RSS ${mib(server!.memory().rss)} MiB`,
      );
    }, 10_000);
    const uploaded = { events: 0, bytes: 0, lines: 0, uploads: 0 };
    try {
      await ingestAll(base, brands, count, uploaded);
    } finally {
      clearInterval(progress);
      sampler.stop();
    }
    const at = process.hrtime.bigint();
    const seconds = Number(at - before.at) / 1e9;
    const timings = await server.sqlTimings();
    const endPids = await store.backendPids();
    const machine = machineCpu();
    const client = process.cpuUsage(before.client);
    const memory = server.memory();
    const cpu = {
      server: server.cpuSeconds() - before.server,
      postgres: kind === 'postgres' ? cpuDelta(endPids, before.postgres) : null,
      client: (client.user + client.system) / 1e6,
      machineBusy: (machine.busy - before.machine.busy) / CLK_TCK,
      cores: os.cpus().length,
    };
    const rss = { before: before.rss, peak: Math.max(sampler.peak, memory.rss), end: memory.rss };
    const perSecond = uploaded.events / seconds;
    console.log(
      `ours: ${uploaded.events} events in ${seconds.toFixed(1)} s = ${perSecond.toFixed(0)} events/s; ` +
        `server RSS ${mib(rss.before)} → peak ${mib(rss.peak)} → end ${mib(rss.end)} MiB`,
    );
    console.log(
      `CPU during ingestion: server ${cpu.server.toFixed(1)} s, PostgreSQL backends ${cpu.postgres === null ? 'n/a' : `${cpu.postgres.toFixed(1)} s`}, ` +
        `bench client ${cpu.client.toFixed(1)} s, whole machine ${cpu.machineBusy.toFixed(1)} s of ${(seconds * cpu.cores).toFixed(1)} s`,
    );

    const profileFile = await server.stop();
    server = undefined;
    const parts = [
      profileFile ? summariseProfile(profileFile, Number(before.at / 1000n), Number(at / 1000n), uploaded.events) : '',
      timings ? summariseSql(timings, uploaded.events, seconds) : '',
    ].filter(Boolean);
    if (profileFile) fs.rmSync(path.dirname(profileFile), { recursive: true, force: true });
    const analysis = parts.length
      ? [
          `${ANALYSIS_HEADING} (${dbName(kind)})`,
          '',
          `From a run of ${uploaded.events} events at ${(uploaded.events / seconds).toFixed(0)} events/s on ` +
            `${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} (${streams} clients × uploads of ${uploadEvents}; code: ${code}); ` +
            `server CPU ${((cpu.server * 1e6) / uploaded.events).toFixed(0)} µs/event` +
            (cpu.postgres === null ? '' : `, PostgreSQL backends ${((cpu.postgres * 1e6) / uploaded.events).toFixed(0)} µs/event`) +
            '. Profiling and timing slow the server a little; the table above is the headline.',
          '',
          ...parts,
        ].join('\n')
      : undefined;
    if (analysis) console.log(analysis);

    const stored = await store.count();
    if (stored.events !== uploaded.events) {
      throw new Error(`select count(*) from events = ${stored.events}, but ${uploaded.events} were accepted`);
    }
    console.log(`verified: count(*) from events = ${stored.events}; ${stored.learners} learners`);

    const copySeconds = await store.copyFloor(stored.events);
    const copyPerSecond = stored.events / copySeconds;
    console.log(
      `floor: COPY of ${stored.events} rows in ${copySeconds.toFixed(1)} s = ${copyPerSecond.toFixed(0)} events/s; ` +
        `COPY ÷ ours ${(copyPerSecond / perSecond).toFixed(2)}`,
    );
    return {
      database: kind,
      version: await store.version(),
      settings: await store.settings(),
      pool: store.pool,
      events: uploaded.events,
      bytes: uploaded.bytes,
      uploads: uploaded.uploads,
      seconds,
      perSecond,
      copySeconds,
      copyPerSecond,
      rss,
      cpu,
      learners: stored.learners,
      code,
      analysis,
    };
  } finally {
    await server?.stop().catch(() => undefined);
    await store.close();
  }
}

// --- the database ------------------------------------------------------------------

interface Store {
  /** The server's environment for this database. */
  env: Record<string, string>;
  pool: string;
  /** PostgreSQL backend pids connected to the bench database (empty on PGlite). */
  backendPids(): Promise<number[]>;
  count(): Promise<{ events: number; learners: number }>;
  /** Copies the stored rows out, truncates `events`, and times copying them back in. Seconds. */
  copyFloor(expected: number): Promise<number>;
  version(): Promise<string>;
  settings(): Promise<string>;
  close(): Promise<void>;
}

async function openStore(kind: Kind): Promise<Store> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'allied-bench-ingest-'));
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    JWT_SECRET,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ALLIED_DEMO: 'false',
    ALLIED_DATA_DIR: dir,
    ALLIED_TRACKING_SECRET: BENCH_TRACKING_SECRET,
  };
  if (poolSize) env.DATABASE_POOL_SIZE = poolSize;
  if (kind === 'embedded') return embeddedStore(dir, env);

  const db = await throwawayDatabase(postgresUrl as string);
  const dbUrl = db.url;
  env.DATABASE_URL = dbUrl;
  const admin = new pg.Client({ connectionString: dbUrl });
  await admin.connect();
  const one = async <T>(sql: string): Promise<T> => (await admin.query(sql)).rows[0] as T;
  const store: Store = {
    env,
    pool: poolSize ?? String(loadConfig({ NODE_ENV: 'production', JWT_SECRET, ALLIED_TRACKING_SECRET: BENCH_TRACKING_SECRET }).databasePoolSize),
    async backendPids() {
      const rows = (await admin.query(`select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`)).rows;
      return rows.map((r: { pid: number }) => r.pid);
    },
    async count() {
      const r = await one<{ events: string; learners: string }>(
        `select (select count(*) from events) as events, (select count(*) from learners) as learners`,
      );
      return { events: Number(r.events), learners: Number(r.learners) };
    },
    async copyFloor(expected) {
      const file = path.join(dir, 'events.copy');
      execFileSync(psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', dbUrl, '-c', `\\copy events to '${file}'`]);
      // CASCADE: other tables reference events (experiment assignments, for one); the floor times only the copy back into events.
      await admin.query('truncate events cascade');
      await admin.query('checkpoint');
      const started = process.hrtime.bigint();
      const out = execFileSync(psql, ['-X', '-v', 'ON_ERROR_STOP=1', '-d', dbUrl, '-c', `\\copy events from '${file}'`], {
        encoding: 'utf8',
      });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      fs.rmSync(file, { force: true });
      if (out.trim() !== `COPY ${expected}`) throw new Error(`the floor's COPY said "${out.trim()}", expected COPY ${expected}`);
      const { events: after } = await store.count();
      if (after !== expected) throw new Error(`after the floor's COPY, count(*) = ${after}, expected ${expected}`);
      return seconds;
    },
    async version() {
      return (await one<{ version: string }>('select version()')).version.split(', compiled by')[0];
    },
    async settings() {
      const names = ['shared_buffers', 'fsync', 'synchronous_commit', 'max_wal_size'];
      const rows = (await admin.query(`select name, current_setting(name) as setting from pg_settings where name = any($1) order by name`, [names])).rows;
      return rows.map((r: { name: string; setting: string }) => `${r.name}=${r.setting}`).join(', ');
    },
    async close() {
      await admin.end().catch(() => undefined);
      await db.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return store;
}

/**
 * PGlite in a temporary folder: the server owns it while it runs; the count
 * and the floor open it in this process once the server has stopped.
 */
function embeddedStore(dir: string, env: Record<string, string>): Store {
  type Db = {
    query<T>(sql: string, params?: unknown[], options?: { blob?: Blob }): Promise<{ rows: T[]; blob?: Blob }>;
    close(): Promise<void>;
  };
  let db: Db | undefined;
  const open = async (): Promise<Db> => {
    if (!db) {
      const { PGlite } = await import('@electric-sql/pglite');
      db = (await PGlite.create(path.join(dir, 'pgdata'))) as unknown as Db;
    }
    return db;
  };
  const store: Store = {
    env,
    pool: '1',
    async backendPids() {
      return [];
    },
    async count() {
      const d = await open();
      const [r] = (
        await d.query<{ events: string; learners: string }>(
          `select (select count(*) from events)::text as events, (select count(*) from learners)::text as learners`,
        )
      ).rows;
      return { events: Number(r.events), learners: Number(r.learners) };
    },
    async copyFloor(expected) {
      const d = await open();
      const { blob } = await d.query(`copy events to '/dev/blob'`);
      if (!blob) throw new Error('PGlite returned no blob for COPY TO');
      await d.query('truncate events cascade');
      await d.query('checkpoint');
      const started = process.hrtime.bigint();
      await d.query(`copy events from '/dev/blob'`, [], { blob });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const { events: after } = await store.count();
      if (after !== expected) throw new Error(`after the floor's COPY, count(*) = ${after}, expected ${expected}`);
      return seconds;
    },
    async version() {
      const d = await open();
      const [r] = (await d.query<{ version: string }>('select version()')).rows;
      return r.version.split(', compiled by')[0];
    },
    async settings() {
      const d = await open();
      const rows = (
        await d.query<{ name: string; setting: string }>(
          `select name, current_setting(name) as setting from pg_settings
           where name in ('shared_buffers', 'fsync', 'synchronous_commit', 'max_wal_size') order by name`,
        )
      ).rows;
      return rows.map((r) => `${r.name}=${r.setting}`).join(', ');
    },
    async close() {
      await db?.close().catch(() => undefined);
      db = undefined;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return store;
}

// --- the server as a child process ---------------------------------------------------

class ServerProcess {
  private readonly tail: string[] = [];
  private exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  private constructor(
    private readonly child: ChildProcess,
    private readonly profileDir: string | undefined,
    private readonly timingFile: string | undefined,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    void this.exited.then((code) => (this.exitCode = code));
    const keep = (prefix: string) => (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        this.tail.push(line);
        if (this.tail.length > 40) this.tail.shift();
        // Warnings and errors only (LOG_LEVEL=warn) and the start-up banner.
        console.log(`  [server${prefix}] ${line.length > 300 ? `${line.slice(0, 300)}…` : line}`);
      }
    };
    child.stdout?.on('data', keep(''));
    child.stderr?.on('data', keep(' stderr'));
  }

  /** `node bin/allied.js serve` on `port`, ready when /readyz says so. */
  static async start(port: number, env: Record<string, string>): Promise<ServerProcess> {
    const profileDir = cpuProfile ? fs.mkdtempSync(path.join(os.tmpdir(), 'allied-bench-prof-')) : undefined;
    const timingFile = sqlTiming ? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'allied-bench-sql-')), 'timings.json') : undefined;
    if (timingFile) fs.writeFileSync(path.join(path.dirname(timingFile), 'preload.js'), SQL_TIMING_PRELOAD);
    const args = [
      ...serverNodeFlags(),
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      ...(timingFile ? ['--require', path.join(path.dirname(timingFile), 'preload.js')] : []),
      path.join(ROOT, 'bin', 'allied.js'),
      'serve',
    ];
    const childEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...env, PORT: String(port) };
    if (timingFile) childEnv.BENCH_SQL_TIMING_FILE = timingFile;
    const child = spawn(process.execPath, args, { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new ServerProcess(child, profileDir, timingFile);
    const deadline = Date.now() + 300_000;
    for (;;) {
      if (server.exitCode !== undefined) throw new Error(`the server exited (${server.exitCode}):\n${server.tail.join('\n')}`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return server;
      if (Date.now() > deadline) throw new Error(`the server was not ready within 300 s:\n${server.tail.join('\n')}`);
      await sleep(200);
    }
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** Resident set size now and its high-water mark, in bytes (/proc/<pid>/status). */
  memory(): { rss: number; hwm: number } {
    const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  }

  /** Samples RSS every `ms` until stopped; `peak` is the largest sample. */
  sampleMemory(ms: number): { peak: number; stop(): void } {
    const state = { peak: 0, stop: () => clearInterval(timer) };
    const timer = setInterval(() => {
      try {
        state.peak = Math.max(state.peak, this.memory().rss);
      } catch {
        // The server is gone; the upload will report it.
      }
    }, ms);
    return state;
  }

  /** user + system CPU seconds of the server process. */
  cpuSeconds(): number {
    return cpuOf([this.pid]).get(this.pid) ?? NaN;
  }

  /** The statement timings since the last call (and resets them); undefined unless BENCH_SQL_TIMING is on. */
  async sqlTimings(): Promise<SqlTimings | undefined> {
    const file = this.timingFile;
    if (!file) return undefined;
    fs.rmSync(file, { force: true });
    this.child.kill('SIGUSR2');
    const deadline = Date.now() + 10_000;
    while (!fs.existsSync(file)) {
      if (Date.now() > deadline) throw new Error('the server did not write its SQL timings');
      await sleep(20);
    }
    await sleep(50);
    return JSON.parse(fs.readFileSync(file, 'utf8')) as SqlTimings;
  }

  /** SIGTERM (graceful: drains, closes the database) and wait; returns the CPU profile file, if one was asked for. */
  async stop(): Promise<string | undefined> {
    if (this.exitCode === undefined) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 60_000);
      const code = await this.exited;
      clearTimeout(timer);
      if (code !== 0) console.log(`  the server exited with ${code}`);
    }
    if (this.timingFile) fs.rmSync(path.dirname(this.timingFile), { recursive: true, force: true });
    if (!this.profileDir) return undefined;
    const file = fs.readdirSync(this.profileDir).find((f) => f.endsWith('.cpuprofile'));
    return file ? path.join(this.profileDir, file) : undefined;
  }
}

// --- seeding through GraphQL --------------------------------------------------------------

class Api {
  constructor(readonly url: string) {}

  async post(token: string, query: string, variables?: Record<string, unknown>): Promise<any> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const text = await res.text();
    const body = JSON.parse(text) as { data?: any; errors?: unknown[] };
    if (res.status !== 200 || body.errors?.length) throw new Error(`GraphQL request failed (${res.status}): ${text.slice(0, 500)}`);
    return body.data;
  }
}

interface BrandSeed {
  index: number;
  id: string;
  /** An INGEST token: what an event pipeline would hold. */
  token: string;
  courses: { id: string; amountMinor: number; currency: string }[];
  creatives: { campaignId: string; creativeId: string }[];
}

/** Two brands, each with courses, campaigns and creatives, created as a platform admin and the brands' owners would. */
async function seed(api: Api, keys: JwtKeys): Promise<BrandSeed[]> {
  const admin = signToken(keys, { sub: 'bench-admin', roles: [Role.PLATFORM_ADMIN] }, 24 * 3600);
  const out: BrandSeed[] = [];
  for (const [index, name] of BRANDS.entries()) {
    const slug = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${crypto.randomBytes(3).toString('hex')}`;
    const data = await api.post(admin, `mutation($input: CreateBrandInput!) { createBrand(input: $input) { id } }`, {
      input: { slug, name, kind: index === 0 ? 'KNOWLEDGE_PLATFORM' : 'SPORTS_ORGANIZATION' },
    });
    const id = data.createBrand.id as string;
    const owner = signToken(keys, { sub: `bench-owner-${slug}`, tid: id, roles: [Role.OWNER] }, 24 * 3600);
    const courses: BrandSeed['courses'] = [];
    for (let i = 0; i < COURSES_PER_BRAND; i++) {
      const price = { amountMinor: 1900 + 500 * i, currency: i % 2 ? 'USD' : 'EUR' };
      const c = await api.post(owner, `mutation($input: CreateCourseInput!) { createCourse(input: $input) { id } }`, {
        input: { title: `${name} course ${i + 1}`, topics: ['bench'], level: 'BEGINNER', format: 'VIDEO', price },
      });
      courses.push({ id: c.createCourse.id, ...price });
    }
    const creatives: BrandSeed['creatives'] = [];
    for (let i = 0; i < CAMPAIGNS_PER_BRAND; i++) {
      const c = await api.post(owner, `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`, {
        input: {
          name: `${name} campaign ${i + 1}`,
          kind: 'AD_PLACEMENT',
          budget: { amountMinor: 500_000, currency: 'USD' },
          startsAt: new Date(Date.now() - 40 * 86_400_000).toISOString(),
          courseIds: [courses[i].id],
        },
      });
      const campaignId = c.createCampaign.id as string;
      for (let j = 0; j < CREATIVES_PER_CAMPAIGN; j++) {
        const r = await api.post(
          owner,
          `mutation($id: ID!, $input: CreativeInput!) { addCreative(campaignId: $id, input: $input) { id } }`,
          { id: campaignId, input: { channel: j % 2 ? 'SOCIAL' : 'SEARCH', headline: `Learn with ${name} (${i + 1}.${j + 1})` } },
        );
        creatives.push({ campaignId, creativeId: r.addCreative.id });
      }
    }
    const token = signToken(keys, { sub: `bench-ingest-${slug}`, tid: id, roles: [Role.INGEST] }, 24 * 3600);
    out.push({ index, id, token, courses, creatives });
  }
  console.log(
    `seeded ${BRANDS.length} brands × (${COURSES_PER_BRAND} courses, ${CAMPAIGNS_PER_BRAND} campaigns × ${CREATIVES_PER_CAMPAIGN} creatives)`,
  );
  return out;
}

// --- event generation and upload -----------------------------------------------------------

const FEEDBACK = [
  'Clear explanations and good pacing.',
  'The second module was too fast for me.',
  'Loved the drills; more video examples please.',
  'Audio was quiet in a few lessons.',
  'Exactly what I needed before the season starts.',
  'Would like downloadable notes.',
];

/** Deterministic events of one brand for one stream (mulberry32 PRNG). */
class EventGenerator {
  private state: number;
  private clock: number;
  private readonly cumulative: number[] = [];

  constructor(
    private readonly brand: BrandSeed,
    seedValue: number,
    private readonly stepMs: number,
  ) {
    this.state = seedValue >>> 0;
    this.clock = Date.now() - 30 * 86_400_000;
    let sum = 0;
    for (const [, p] of MIX) this.cumulative.push((sum += p));
  }

  private random(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  private pick<T>(list: T[]): T {
    return list[Math.floor(this.random() * list.length)];
  }

  /** One NDJSON line, without the newline. */
  line(): string {
    const roll = this.random() * 100;
    const type = MIX[this.cumulative.findIndex((c) => roll < c)][0];
    this.clock += this.stepMs * (0.5 + this.random());
    const event: Record<string, unknown> = {
      idempotencyKey: crypto.randomUUID(),
      type,
      learnerExternalId: `learner-${this.brand.index + 1}-${String(Math.floor(this.random() * learnersPerBrand)).padStart(6, '0')}`,
      occurredAt: new Date(Math.floor(this.clock)).toISOString(),
    };
    if (type === 'IMPRESSION' || type === 'CLICK') {
      const c = this.pick(this.brand.creatives);
      event.campaignId = c.campaignId;
      event.creativeId = c.creativeId;
    } else {
      const course = this.pick(this.brand.courses);
      event.courseId = course.id;
      if (type === 'PURCHASE') event.amount = { amountMinor: course.amountMinor, currency: course.currency };
      if (type === 'RATING') event.rating = 1 + Math.floor(this.random() * 5);
      if (type === 'FEEDBACK') event.text = `${this.pick(FEEDBACK)} ${this.pick(FEEDBACK)}`;
    }
    return JSON.stringify(event);
  }
}

/** An upload body of `count` lines, generated as the socket drains. */
function body(generator: EventGenerator, count: number, sent: { bytes: number; lines: number }): Readable {
  let left = count;
  return new Readable({
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, 250);
      left -= n;
      let chunk = '';
      for (let i = 0; i < n; i++) chunk += `${generator.line()}\n`;
      const buffer = Buffer.from(chunk, 'utf8');
      sent.bytes += buffer.length;
      sent.lines += n;
      this.push(buffer);
    },
  });
}

interface IngestSummary {
  accepted: number;
  duplicates: number;
  rejected: { line: number; code: string; message: string }[];
  lines: number;
  truncated: { line: number } | null;
}

/** One streaming `POST /ingest`; the summary must accept every line. */
function upload(
  base: string,
  token: string,
  generator: EventGenerator,
  count: number,
  sent: { bytes: number; lines: number },
): Promise<IngestSummary> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}` },
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
        const problems: string[] = [];
        if (summary.accepted !== count) problems.push(`accepted ${summary.accepted} of ${count}`);
        if (summary.duplicates) problems.push(`${summary.duplicates} duplicates`);
        if (summary.rejected.length) problems.push(`rejected ${JSON.stringify(summary.rejected.slice(0, 3))}`);
        if (summary.lines !== count) problems.push(`read ${summary.lines} lines`);
        if (summary.truncated) problems.push(`truncated at line ${summary.truncated.line}`);
        if (problems.length) reject(new Error(`POST /ingest: ${problems.join('; ')}`));
        else resolve(summary);
      });
    });
    body(generator, count, sent).pipe(req);
  });
}

/**
 * `count` events in BENCH_STREAMS concurrent clients (stream i sends for
 * brand i mod 2), each sending consecutive uploads of at most
 * BENCH_UPLOAD_EVENTS lines.
 */
async function ingestAll(
  base: string,
  brands: BrandSeed[],
  count: number,
  done: { events: number; bytes: number; lines: number; uploads: number },
): Promise<void> {
  // ~30 days of events per stream.
  const perStream = Math.ceil(count / streams);
  const client = async (s: number) => {
    const brand = brands[s % brands.length];
    const share = Math.max(0, Math.min(perStream, count - s * perStream));
    const generator = new EventGenerator(brand, 0x9e3779b9 ^ (s * 7919), (30 * 86_400_000) / Math.max(1, share));
    for (let left = share; left > 0; ) {
      const n = Math.min(left, uploadEvents);
      const summary = await upload(base, brand.token, generator, n, done);
      left -= n;
      done.events += summary.accepted;
      done.uploads++;
    }
  };
  await Promise.all(Array.from({ length: streams }, (_, s) => client(s)));
}

// --- CPU accounting --------------------------------------------------------------------

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** user + system CPU seconds per pid (processes that are gone are left out). */
function cpuOf(pids: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields 14 and 15 of stat (utime, stime); the slice starts at field 3.
      out.set(pid, (Number(fields[11]) + Number(fields[12])) / CLK_TCK);
    } catch {
      // Not on this machine, or gone.
    }
  }
  return out;
}

/** CPU seconds the backends at the end used since the start (a backend new since then counts from zero). */
function cpuDelta(endPids: number[], start: Map<number, number>): number | null {
  const end = cpuOf(endPids);
  if (end.size === 0) return null;
  let total = 0;
  for (const [pid, seconds] of end) total += seconds - (start.get(pid) ?? 0);
  return total;
}

/** Busy clock ticks of the whole machine (all processes, all cores). */
function machineCpu(): { busy: number } {
  const [, ...values] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = values.map(Number);
  void idle;
  void iowait;
  return { busy: user + nice + system + irq + softirq + steal };
}

// --- SQL timing -------------------------------------------------------------------------

/** [statement, { calls, ms }] pairs: wall time from sending a statement to its result, as the server saw it. */
type SqlTimings = [string, { calls: number; ms: number }][];

/**
 * Loaded into the server with --require when BENCH_SQL_TIMING is on: wraps
 * pg's Client#query to time each statement; SIGUSR2 writes the totals so far
 * to BENCH_SQL_TIMING_FILE and starts again from zero.
 */
const SQL_TIMING_PRELOAD = `
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');
const pg = require(require.resolve('pg', { paths: [process.cwd()] }));
let stats = new Map();
const add = (key, ms) => {
  const s = stats.get(key) || { calls: 0, ms: 0 };
  s.calls++;
  s.ms += ms;
  stats.set(key, s);
};
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, values, callback) {
  const text = typeof config === 'string' ? config : config && config.text;
  if (typeof text !== 'string') return query.apply(this, arguments);
  const key = text.replace(/\\s+/g, ' ').trim().slice(0, 90);
  const started = performance.now();
  const done = () => add(key, performance.now() - started);
  const wrap = (cb) => function () { done(); return cb.apply(this, arguments); };
  if (typeof values === 'function') return query.call(this, config, wrap(values));
  if (typeof callback === 'function') return query.call(this, config, values, wrap(callback));
  const result = query.apply(this, arguments);
  if (result && typeof result.then === 'function') result.then(done, done);
  return result;
};
process.on('SIGUSR2', () => {
  const file = process.env.BENCH_SQL_TIMING_FILE;
  fs.writeFileSync(file + '.tmp', JSON.stringify([...stats]));
  fs.renameSync(file + '.tmp', file);
  stats = new Map();
});
`;

/** Statement timings as a table: how much of each client's time was spent waiting on which statement. */
function summariseSql(timings: SqlTimings, count: number, seconds: number): string {
  const rows = timings.sort((a, b) => b[1].ms - a[1].ms);
  const totalMs = rows.reduce((sum, [, s]) => sum + s.ms, 0);
  const streamMs = streams * seconds * 1000;
  const abbreviate = (sql: string) => (sql.length > 85 ? `${sql.slice(0, 82)}...` : sql).replace(/\|/g, '\\|');
  return [
    `SQL statements the server sent during ingestion, timed in the server from sending to result (\`pg\` Client#query, ` +
      `so waits for a busy CPU count too). The ${streams} uploads were in flight ${(streamMs / 1000).toFixed(1)} s in all ` +
      `(${((streamMs * 1000) / count).toFixed(1)} µs per event); ${((100 * totalMs) / streamMs).toFixed(0)}% of that was ` +
      `spent waiting on these statements; the rest went to reading, parsing and preparing in the server, and to waiting ` +
      `for one of the pool's connections (the embedded database has one, shared by all uploads).`,
    '',
    '| statement | calls | ms per call | µs per event | share of upload time |',
    '|---|--:|--:|--:|--:|',
    ...rows.map(
      ([sql, s]) =>
        `| \`${abbreviate(sql)}\` | ${s.calls} | ${(s.ms / s.calls).toFixed(2)} | ${((s.ms * 1000) / count).toFixed(1)} | ` +
        `${((100 * s.ms) / streamMs).toFixed(1)}% |`,
    ),
    '',
  ].join('\n');
}

// --- CPU profile summary ---------------------------------------------------------------------

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/**
 * The server's CPU profile over the ingestion window only: where its samples
 * fell, by package or Allied file, and the heaviest functions by self time;
 * Allied functions also by total time (their synchronous work and what it calls).
 */
function summariseProfile(file: string, fromUs: number, toUs: number, count: number): string {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    startTime: number;
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const where = (n: ProfileNode): string => {
    const { url, functionName } = n.callFrame;
    if (!url) return functionName.startsWith('(') ? functionName : '(native / V8 builtins)';
    if (url.startsWith('wasm://')) return 'WebAssembly (PGlite: PostgreSQL compiled to wasm)';
    if (url.includes('allied-bench-sql-')) return "the benchmark's SQL-timing wrapper";
    const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (mod) return mod[1];
    const own = /\/dist\/((?:src|migrations)\/.*)\.js$/.exec(url);
    if (own) return `allied ${own[1]}`;
    if (url.startsWith('node:')) return 'node internals';
    return url;
  };
  const label = (n: ProfileNode) => {
    const { functionName, url, lineNumber } = n.callFrame;
    const short = url ? `${where(n).replace(/^allied /, '')}:${lineNumber + 1}` : '';
    return `${functionName || '(anonymous)'}${short ? ` ${short}` : ''}`;
  };

  const self = new Map<string, number>();
  const category = new Map<string, number>();
  const total = new Map<string, number>();
  let t = profile.startTime;
  let inWindow = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    if (t < fromUs || t > toUs) continue;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(profile.samples[i]);
    if (!node) continue;
    inWindow += dt;
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    self.set(label(node), (self.get(label(node)) ?? 0) + dt);
    category.set(where(node), (category.get(where(node)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      if (!/\/dist\/src\//.test(n.callFrame.url)) continue;
      const key = label(n);
      if (seen.has(key)) continue;
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + dt);
    }
  }
  const busy = inWindow - idle;
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1)}%`;
  const perEvent = (us: number) => `${(us / count).toFixed(1)} µs/event`;
  const top = (m: Map<string, number>, n: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  return [
    `Server profiled with \`--cpu-prof\` (1 ms sampling) over the ingestion window only: ${count} events, ` +
      `${(busy / 1e6).toFixed(1)} s of server CPU (${perEvent(busy)}), idle ${((100 * idle) / inWindow).toFixed(0)}% of the window. ` +
      `Taken ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}.`,
    '',
    'Where the samples fell (self time):',
    '',
    '| package or file | share | per event |',
    '|---|--:|--:|',
    ...top(category, 14).map(([k, v]) => `| ${k} | ${pct(v)} | ${perEvent(v)} |`),
    '',
    'Heaviest functions by self time:',
    '',
    '| function | share |',
    '|---|--:|',
    ...top(self, 20).map(([k, v]) => `| \`${k}\` | ${pct(v)} |`),
    '',
    'Allied functions by total time (synchronous work including what they call):',
    '',
    '| function | share |',
    '|---|--:|',
    ...top(total, 12).map(([k, v]) => `| \`${k}\` | ${pct(v)} |`),
    '',
  ].join('\n');
}

// --- reporting ---------------------------------------------------------------------------

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
const dbName = (k: Kind) => (k === 'embedded' ? 'embedded (PGlite)' : 'PostgreSQL');

function table(outcomes: Outcome[]): string {
  const rows = [
    '| database | events | ours events/s | ours s | COPY events/s | COPY s | COPY ÷ ours | server RSS before / peak / end (MiB) | server CPU µs/event | PostgreSQL backends CPU µs/event |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const o of outcomes) {
    const us = (s: number | null) => (s === null ? 'n/a (in the server)' : ((s * 1e6) / o.events).toFixed(0));
    rows.push(
      `| ${dbName(o.database)} | ${o.events} | ${o.perSecond.toFixed(0)} | ${o.seconds.toFixed(1)} | ` +
        `${o.copyPerSecond.toFixed(0)} | ${o.copySeconds.toFixed(1)} | ${(o.copyPerSecond / o.perSecond).toFixed(2)} | ` +
        `${mib(o.rss.before)} / ${mib(o.rss.peak)} / ${mib(o.rss.end)} | ${us(o.cpu.server)} | ${us(o.cpu.postgres)} |`,
    );
  }
  return rows.join('\n');
}

function targets(outcomes: Outcome[]): string[] {
  const pgo = outcomes.find((o) => o.database === 'postgres');
  if (!pgo) return ['Targets apply to PostgreSQL, which was not measured.'];
  const ratio = pgo.copyPerSecond / pgo.perSecond;
  const rate = pgo.perSecond >= 20_000;
  const lines = [
    `- Target ≥ 20,000 events/s on PostgreSQL: **${rate ? 'met' : 'not met'}** (${pgo.perSecond.toFixed(0)} events/s).`,
    `- Target COPY ÷ ours ≤ 5 on PostgreSQL: **${ratio <= 5 ? 'met' : 'not met'}** (${ratio.toFixed(2)}).`,
  ];
  if (pgo.cpu.postgres !== null) {
    const us = (s: number) => (s * 1e6) / pgo.events;
    const total = us(pgo.cpu.server) + us(pgo.cpu.postgres) + us(pgo.cpu.client);
    lines.push(
      `- CPU budget: the server spent ${us(pgo.cpu.server).toFixed(0)} µs, PostgreSQL ${us(pgo.cpu.postgres).toFixed(0)} µs and the client ` +
        `${us(pgo.cpu.client).toFixed(0)} µs of CPU per event, ${total.toFixed(0)} µs in all: ${pgo.cpu.cores} cores allow at most ` +
        `${((pgo.cpu.cores * 1e6) / total).toFixed(0)} events/s at that cost; 20,000 events/s needs at most ` +
        `${((pgo.cpu.cores * 1e6) / 20_000).toFixed(0)} µs per event in all. One COPY session ran at ${pgo.copyPerSecond.toFixed(0)} rows/s.`,
    );
  }
  return lines;
}

/** Replaces the `## ingest` section of RESULTS.md, leaving other sections alone. A profile from an earlier run is kept unless this run made one. */
function writeResults(outcomes: Outcome[]): void {

  const analyses = outcomes.filter((o) => o.analysis);
  let profileText: string;
  if (analyses.length) {
    profileText = analyses.map((o) => o.analysis!).join('\n');
  } else {
    // Keep the analysis of an earlier, profiled run.
    const old = readSection(SECTION);
    const at = old.findIndex((l) => l.startsWith(ANALYSIS_HEADING));
    profileText = at === -1 ? '' : `${old.slice(at).join('\n').replace(/\n*$/, '\n')}`;
    if (profileText) {
      profileText = `_The breakdown below is from an earlier run (see its date) with BENCH_CPU_PROF / BENCH_SQL_TIMING; this run kept it._\n\n${profileText}`;
    }
  }

  const cpuLines = outcomes.map((o) => {
    const pgCpu = o.cpu.postgres === null ? '' : `, PostgreSQL backends ${o.cpu.postgres.toFixed(1)} s`;
    const other = o.cpu.machineBusy - o.cpu.server - (o.cpu.postgres ?? 0) - o.cpu.client;
    return (
      `- CPU during the ${dbName(o.database)} ingestion (${o.seconds.toFixed(1)} s × ${o.cpu.cores} cores = ` +
      `${(o.seconds * o.cpu.cores).toFixed(1)} s available): server ${o.cpu.server.toFixed(1)} s${pgCpu}, ` +
      `bench client (generating and sending) ${o.cpu.client.toFixed(1)} s, everything else on the machine ` +
      `${Math.max(0, other).toFixed(1)} s (whole machine busy ${o.cpu.machineBusy.toFixed(1)} s).`
    );
  });
  const mix = MIX.map(([t, p]) => `${t} ${p}%`).join(', ');
  const section = [
    `## ${SECTION}`,
    '',
    'Sustained NDJSON ingestion through `POST /ingest`, against the floor of `COPY` of the same rows into the same table.',
    '',
    `- Date: ${now()}`,
    `- Machine: ${machine()}; the server, the database and the load generator share it.`,
    ...[...new Set(outcomes.map((o) => o.code))].map(
      (code) =>
        `- Code${outcomes.length > 1 ? ` (${outcomes.filter((o) => o.code === code).map((o) => dbName(o.database)).join(', ')})` : ''}: ${code}.`,
    ),
    ...outcomes.map((o) => `- ${dbName(o.database)}: ${o.version}; ${o.settings}; server pool ${o.pool}.`),
    `- Events: ${outcomes.map((o) => `${o.events} on ${dbName(o.database)}`).join(', ')} (${outcomes
      .map((o) => `${(o.bytes / 2 ** 20).toFixed(0)} MiB, ${(o.bytes / o.events).toFixed(0)} B/line`)
      .join('; ')}). Mix: ${mix}; no REFUND. ${BRANDS.length} brands with ${COURSES_PER_BRAND} courses and ` +
      `${CAMPAIGNS_PER_BRAND * CREATIVES_PER_CAMPAIGN} creatives each; IMPRESSION and CLICK name a campaign and creative, the rest a course; ` +
      `${learnersPerBrand} learners per brand, created on first sight (${outcomes.map((o) => `${o.learners} stored on ${dbName(o.database)}`).join(', ')}); ` +
      'UUID idempotency keys, times spread over 30 days.',
    `- Upload: ${streams} concurrent clients (client i sends for brand i mod ${BRANDS.length} with an INGEST token), each sending ` +
      `consecutive streamed uploads of ${uploadEvents} lines (${outcomes.map((o) => `${o.uploads} uploads on ${dbName(o.database)}`).join(', ')}); ` +
      'lines are generated as the socket drains. The server stores them in transactions of 1000 events. ' +
      'Every summary had to accept all its lines (no duplicates, rejections or cut), and `count(*)` of `events` had to equal the events sent.',
    '- Server: `node bin/allied.js serve` as a child process (NODE_ENV=production, LOG_LEVEL=warn); RSS from `/proc/<pid>/status`: ' +
      'before = after start-up and seeding, peak = largest 200 ms sample during ingestion, end = when the last upload was answered. ' +
      'On the embedded database the server process holds PGlite, so its RSS includes the database.',
    '- Floor: after the server stopped, as the database superuser, `COPY events TO` a file (PGlite: a blob), `TRUNCATE events CASCADE` (other tables reference it; only the copy back into events is timed) ' +
      '(the same table, so the same indexes, constraints, foreign keys and RLS policy), `CHECKPOINT`, then one timed ' +
      "`COPY events FROM` of all rows: psql's `\\copy` from the file over a local TCP connection on PostgreSQL, " +
      "`COPY events FROM '/dev/blob'` in the benchmark's own process on PGlite. A superuser bypasses RLS; COPY FROM is refused " +
      'to a role subject to it. COPY supplies every column, so it skips the duplicate, learner and reference look-ups the server does.',
    ...cpuLines,
    '',
    table(outcomes),
    '',
    ...targets(outcomes),
    '',
    ...(profileText ? [profileText.replace(/\n*$/, '\n')] : []),
  ].join('\n');

  writeSection(SECTION, section);
}

/**
 * The code the server is about to run: the commit, the files under src/ and
 * migrations/ that differ from it, and a fingerprint of the build it loads
 * (dist/src and dist/migrations), so runs of different builds can be told apart.
 */
function codeVersion(): string {
  const hash = crypto.createHash('sha256');
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.js')) hash.update(entry.name).update(fs.readFileSync(file));
    }
  };
  walk(path.join(ROOT, 'dist', 'src'));
  walk(path.join(ROOT, 'dist', 'migrations'));
  const build = `build ${hash.digest('hex').slice(0, 12)}`;
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' });
    const commit = git('rev-parse', '--short', 'HEAD').trim();
    const changed = git('status', '--porcelain', '--untracked-files=normal', '--', 'src', 'migrations')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3));
    return changed.length ? `commit ${commit} with uncommitted changes to ${changed.join(', ')}; ${build}` : `commit ${commit}; ${build}`;
  } catch {
    return `not a git checkout; ${build}`;
  }
}

// --- helpers -------------------------------------------------------------------------------

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
