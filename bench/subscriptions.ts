/**
 * Subscription benchmark: BENCH_SUBSCRIPTIONS live `metrics` subscriptions
 * (default 10,000, one per WebSocket connection) across BENCH_BRANDS brands
 * (default 100) on one server instance backed by PostgreSQL, while events are
 * ingested at BENCH_RATE events/s (default 200) spread over the brands for
 * BENCH_DURATION seconds (default 60).
 *
 *  1. A throwaway database; the server runs as a child process
 *     (`node bin/allied.js serve`), so its CPU and RSS are its own.
 *  2. Brands are created through GraphQL.
 *  3. A second child process (this file with `clients`) opens the
 *     connections, subscribes, waits for every first snapshot, then ingests:
 *     each second, every brand sends its share of BENCH_RATE IMPRESSION
 *     events in one `POST /ingest` (NDJSON) request, the brands' requests
 *     spread evenly over the second. Each brand's impression count after each
 *     event is known, so every subscriber's delay is measured per event: from
 *     the moment the `recordEvents` response arrived (the event committed) to
 *     the first snapshot that includes it.
 *  4. The server's RSS and CPU come from /proc every second.
 *
 * The numbers go into the `## subscriptions` section of bench/RESULTS.md.
 *
 *   npx tsc -p tsconfig.json && BENCH_DATABASE_URL=postgres://... node dist/bench/subscriptions.js
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/database';
import { resolveJwtKeys, signToken } from '../src/tenancy/credentials';
import { Role } from '../src/tenancy/roles';
import { BENCH_TRACKING_SECRET, graphql, machine, now, positiveInt, serverNodeFlags, throwawayDatabase, withClient, writeSection } from './support';

const JWT_SECRET = 'allied-bench-secret-0123456789-abcdefghij';
const SUBSCRIPTION = `subscription { metrics(window: LAST_HOUR) { impressions } }`;

const subscriptions = positiveInt('BENCH_SUBSCRIPTIONS', 10_000);
const brandCount = positiveInt('BENCH_BRANDS', 100);
const rate = positiveInt('BENCH_RATE', 200);
const duration = positiveInt('BENCH_DURATION', 60);

interface Plan {
  url: string;
  brands: { id: string; token: string }[];
  subscriptions: number;
  rate: number;
  duration: number;
}

/** What the clients process reports. */
interface ClientReport {
  held: number;
  errors: string[];
  closedEarly: number;
  connectSeconds: number;
  events: number;
  ingestErrors: number;
  /** The first distinct reasons ingest requests failed. */
  ingestFailures: string[];
  samples: number;
  undelivered: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  messages: number;
  /** Ingest request round trips, ms. */
  ingestP50: number;
  ingestP99: number;
}

// --- the server side (main process) -------------------------------------------

async function main(): Promise<void> {
  const adminUrl = process.env.BENCH_DATABASE_URL;
  if (!adminUrl) throw new Error('Set BENCH_DATABASE_URL to a PostgreSQL server (bench/run-subscriptions.sh starts one).');
  const db = await throwawayDatabase(adminUrl);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'allied-bench-'));
  let server: ChildProcess | undefined;
  try {
    // Migrate first, so the server starts on a ready schema.
    const migrated = await openDatabase(loadConfig({ NODE_ENV: 'production', JWT_SECRET, DATABASE_URL: db.url, ALLIED_DATA_DIR: dir, ALLIED_TRACKING_SECRET: BENCH_TRACKING_SECRET }));
    await migrated.close();
    const started = await startServer(db.url, dir);
    server = started.child;
    const url = `http://127.0.0.1:${started.port}/graphql`;
    const keys = resolveJwtKeys(loadConfig({ NODE_ENV: 'production', JWT_SECRET, ALLIED_DATA_DIR: dir, ALLIED_TRACKING_SECRET: BENCH_TRACKING_SECRET }));
    const admin = signToken(keys, { sub: 'bench-admin', roles: [Role.PLATFORM_ADMIN] }, 7200);
    const brands: Plan['brands'] = [];
    for (let i = 0; i < brandCount; i++) {
      const res = await graphql(url, admin, `mutation($i: CreateBrandInput!) { createBrand(input: $i) { id } }`, {
        i: { slug: `live-bench-${i}`, name: `Live Bench ${i}`, kind: 'KNOWLEDGE_PLATFORM' },
      });
      const id = res.createBrand.id as string;
      brands.push({ id, token: signToken(keys, { sub: `bench-${i}`, tid: id, roles: [Role.OWNER] }, 7200) });
    }
    const [{ version }] = await withClient(db.url, (c) => c.query('select version()').then((r) => r.rows));

    const samples: { t: number; rss: number; cpu: number }[] = [];
    const sampler = setInterval(() => samples.push({ t: performance.now(), ...procStats(server!.pid!) }), 1000);
    const baseline = procStats(server.pid!);
    const report = await runClients({ url, brands, subscriptions, rate, duration });
    clearInterval(sampler);
    const end = procStats(server.pid!);
    const peakRss = Math.max(baseline.rss, end.rss, ...samples.map((s) => s.rss));
    // CPU over the ingestion window only: the last `duration` seconds of samples.
    const window = samples.filter((s) => s.t >= samples[samples.length - 1].t - duration * 1000);
    const cpuShare = window.length > 1 ? (window[window.length - 1].cpu - window[0].cpu) / ((window[window.length - 1].t - window[0].t) / 1000) : NaN;

    const ok = report.held === subscriptions && report.errors.length === 0 && report.closedEarly === 0;
    const keptPace = report.ingestErrors === 0 && report.ingestP99 < 1000;
    const section = [
      '## subscriptions',
      '',
      `${subscriptions.toLocaleString('en')} live \`metrics(window: LAST_HOUR)\` subscriptions, one per WebSocket connection, across ${brandCount} brands, on one server instance on PostgreSQL; ${rate} events/s ingested for ${duration} s, spread round robin over the brands.`,
      '',
      `- Date: ${now()}`,
      `- Machine: ${machine()}; the server, PostgreSQL and the client process share it.`,
      `- PostgreSQL: ${String(version).split(', compiled by')[0]}`,
      '- Server: `node bin/allied.js serve` as a child process (NODE_ENV=production); RSS and CPU from /proc every second.',
      `- Clients: one separate Node.js process holding every connection (graphql-ws client) and sending the events: each second, each brand's share (${(rate / brandCount).toFixed(1)} IMPRESSION events) in one \`POST /ingest\` NDJSON request, the brands' requests spread evenly over the second.`,
      '- Delay: per subscriber and event, from the arrival of the ingest response (the events are committed) to the first snapshot that counts the event.',
      '',
      '| measure | value |',
      '|---|--:|',
      `| subscriptions held | ${report.held.toLocaleString('en')} of ${subscriptions.toLocaleString('en')} (connected in ${report.connectSeconds.toFixed(1)} s) |`,
      `| subscription errors / early closes | ${report.errors.length} / ${report.closedEarly} |`,
      `| events ingested (failed requests) | ${report.events.toLocaleString('en')} (${report.ingestErrors}) |`,
      `| ingest request round trip p50 / p99 | ${ms(report.ingestP50)} / ${ms(report.ingestP99)} |`,
      `| snapshots delivered | ${report.messages.toLocaleString('en')} |`,
      `| delay samples (never delivered) | ${report.samples.toLocaleString('en')} (${report.undelivered}) |`,
      `| delay p50 / p90 / p99 / max | ${ms(report.p50)} / ${ms(report.p90)} / ${ms(report.p99)} / ${ms(report.max)} |`,
      `| server CPU while ingesting | ${(cpuShare * 100).toFixed(0)}% of one core |`,
      `| server RSS before subscribing / peak / end | ${mib(baseline.rss)} / ${mib(peakRss)} / ${mib(end.rss)} MiB |`,
      `| server RSS per connection (peak − before) | ${(((peakRss - baseline.rss) / subscriptions) / 1024).toFixed(1)} KiB |`,
      '',
      `Targets: all ${subscriptions.toLocaleString('en')} held with zero errors — ${ok ? 'met' : '**not met**'}; ` +
        `p99 ≤ 1.5 s — ${report.p99 <= 1500 ? 'met' : '**not met**'}; ` +
        `ingestion keeps pace (every request accepted, round trip p99 under a brand's 1 s between requests) — ${keptPace ? 'met' : '**not met**'}; ` +
        `RSS ≤ 1.5 GB — ${peakRss <= 1.5 * 2 ** 30 ? 'met' : '**not met**'}.`,
      report.errors.length ? `\nFirst errors: ${report.errors.slice(0, 3).join('; ')}` : '',
      report.ingestFailures.length ? `\nFirst failed ingest requests: ${report.ingestFailures.join('; ')}` : '',
      '',
    ].join('\n');
    writeSection('subscriptions', section);
    console.log(section);
  } finally {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(0)} ms` : 'n/a');
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

async function startServer(databaseUrl: string, dataDir: string): Promise<{ child: ChildProcess; port: number }> {
  const bin = path.resolve(__dirname, '..', '..', 'bin', 'allied.js');
  // BENCH_SERVER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", to profile the server.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...serverNodeFlags(), ...nodeArgs, bin, 'serve'], {
    env: {
      // One client process stands for 10,000 users on many addresses: the
      // per-address limits (connections, request rate) would refuse it.
      ALLIED_MAX_CONNECTIONS_PER_IP: String(subscriptions + 1000),
      ALLIED_RATE_LIMIT_PER_IP: '1000000',
      ALLIED_RATE_BURST_PER_IP: '1000000',
      ...process.env,
      NODE_ENV: 'production', LOG_LEVEL: process.env.BENCH_SERVER_LOG_LEVEL || 'info', PORT: '0', HOST: '127.0.0.1', JWT_SECRET, DATABASE_URL: databaseUrl, ALLIED_DATA_DIR: dataDir, ALLIED_DEMO: 'false', ALLIED_TRACKING_SECRET: BENCH_TRACKING_SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const log = process.env.BENCH_SERVER_LOG ? fs.createWriteStream(process.env.BENCH_SERVER_LOG) : null;
  child.stdout!.on('data', (d) => {
    out = (out + d).slice(-20_000);
    log?.write(d);
  });
  child.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = /"url":"http:\/\/[^:]+:(\d+)\//.exec(out);
    if (m) return { child, port: Number(m[1]) };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** RSS (bytes) and CPU seconds (user + system) of a process. */
function procStats(pid: number): { rss: number; cpu: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rss, cpu: ticks / 100 };
}

function runClients(plan: Plan): Promise<ClientReport> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['clients'], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], execArgv: ['--max-old-space-size=4096'] });
    child.once('message', (m) => resolve(m as ClientReport));
    child.once('error', reject);
    child.once('exit', (code) => code !== 0 && reject(new Error(`clients exited with ${code}`)));
    child.send(plan);
  });
}


// --- the clients (a separate process) -----------------------------------------

async function clients(plan: Plan): Promise<ClientReport> {
  const wsUrl = plan.url.replace(/^http/, 'ws');
  const errors: string[] = [];
  let closedEarly = 0;
  let messages = 0;
  let ingesting = false;
  // Per brand: when each impression count was committed (ms, performance.now()).
  const committed = plan.brands.map(() => [] as number[]);
  const delays: number[] = [];
  interface Sub { brand: number; seen: number; first: boolean; ready: () => void }
  const subs: Sub[] = [];

  const connectStart = performance.now();
  const ready: Promise<void>[] = [];
  for (let i = 0; i < plan.subscriptions; i++) {
    const brand = i % plan.brands.length;
    let markReady!: () => void;
    ready.push(new Promise<void>((r) => (markReady = r)));
    const sub: Sub = { brand, seen: 0, first: true, ready: markReady };
    subs.push(sub);
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: plan.brands[brand].token },
      retryAttempts: 0,
      lazy: false,
      on: { closed: () => ingesting && closedEarly++ },
    });
    client.subscribe(
      { query: SUBSCRIPTION },
      {
        next: (result) => {
          messages++;
          const impressions = (result.data as any)?.metrics?.impressions as number | undefined;
          if (impressions === undefined) return;
          const t = performance.now();
          const times = committed[brand];
          for (let n = sub.seen + 1; n <= impressions; n++) {
            // A snapshot can beat the response that confirms the commit: that delay counts as 0.
            delays.push(times[n - 1] !== undefined ? Math.max(0, t - times[n - 1]) : 0);
          }
          if (impressions > sub.seen) sub.seen = impressions;
          if (sub.first) {
            sub.first = false;
            sub.ready();
          }
        },
        error: (e) => {
          const message = Array.isArray(e) ? JSON.stringify(e) : e instanceof Error ? e.message : String((e as { message?: string })?.message ?? (e as { type?: string })?.type ?? e);
          errors.push(message.slice(0, 200));
          sub.ready();
        },
        complete: () => undefined,
      },
    );
    // Open connections in waves of 200, each after the previous one is subscribed, so no accept queue overflows.
    if (i % 200 === 199) await Promise.all(ready.slice(i - 199));
  }
  await Promise.all(ready);
  const connectSeconds = (performance.now() - connectStart) / 1000;
  const held = subs.filter((s) => !s.first).length - errors.length;
  console.log(`clients: ${held} subscriptions hold their first snapshot after ${connectSeconds.toFixed(1)} s`);

  ingesting = true;
  let events = 0;
  let ingestErrors = 0;
  const ingestFailures = new Set<string>();
  const counts = plan.brands.map(() => 0);
  const pending: Promise<void>[] = [];
  const ingestTimes: number[] = [];
  const ingestUrl = plan.url.replace(/\/graphql$/, '/ingest');
  // Each brand sends its share of the second's events in one NDJSON request,
  // the brands' requests spread evenly over the second.
  const perBrand = plan.rate / plan.brands.length;
  const start = performance.now();
  let seq = 0;
  for (let second = 0; second < plan.duration; second++) {
    for (let brand = 0; brand < plan.brands.length; brand++) {
      const due = start + second * 1000 + (brand * 1000) / plan.brands.length;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      // Whole events per request, the fractions carried so the rate is exact over time.
      const n = Math.floor((second * plan.brands.length + brand + 1) * perBrand) - Math.floor((second * plan.brands.length + brand) * perBrand);
      if (n === 0) continue;
      const occurredAt = new Date(Date.now() - 1000).toISOString();
      const body = Array.from({ length: n }, () => JSON.stringify({ idempotencyKey: `e-${++seq}`, type: 'IMPRESSION', learnerExternalId: 'viewer', occurredAt })).join('\n');
      const sent = performance.now();
      pending.push(
        fetch(ingestUrl, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${plan.brands[brand].token}` }, body })
          .then(async (res) => {
            const summary = (await res.json()) as { accepted?: number };
            if (res.status !== 200 || summary.accepted !== n) throw new Error(`ingest answered ${res.status}: ${JSON.stringify(summary).slice(0, 300)}`);
            // Commits of one brand may be confirmed out of order; the nth confirmation stands for count n.
            const t = performance.now();
            for (let k = 0; k < n; k++) committed[brand][counts[brand]++] = t;
            ingestTimes.push(t - sent);
            events += n;
          })
          .catch((error: Error) => {
            ingestErrors++;
            if (ingestFailures.size < 3) ingestFailures.add(error.message);
          }),
      );
    }
  }
  await Promise.all(pending);
  // Let the last snapshots arrive (at most one per second per scope, plus computing).
  await new Promise((r) => setTimeout(r, 3000));
  const expected = subs.reduce((n, s) => n + counts[s.brand], 0);
  delays.sort((a, b) => a - b);
  ingestTimes.sort((a, b) => a - b);
  const quantile = (values: number[], p: number) => (values.length ? values[Math.min(values.length - 1, Math.floor(p * values.length))] : NaN);
  const q = (p: number) => quantile(delays, p);
  return {
    held,
    errors,
    closedEarly,
    connectSeconds,
    events,
    ingestErrors,
    ingestFailures: [...ingestFailures],
    samples: delays.length,
    undelivered: Math.max(0, expected - delays.length),
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    max: delays.length ? delays[delays.length - 1] : NaN,
    messages,
    ingestP50: quantile(ingestTimes, 0.5),
    ingestP99: quantile(ingestTimes, 0.99),
  };
}

if (process.argv[2] === 'clients') {
  process.once('message', (plan) => {
    clients(plan as Plan).then(
      (report) => process.send!(report, () => process.exit(0)),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
} else {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
