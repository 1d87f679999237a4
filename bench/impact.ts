/**
 * Alliance-impact benchmark on PostgreSQL, through the real server (HTTP,
 * end to end):
 *
 *  - `funnel` of a brand over the second half of 2025 (and, as the field
 *    always does, the first half before it): 1,000,000 events of the brand in
 *    the two periods; and the alliance's funnel over its joint courses;
 *  - `allianceImpact` over 2025 in DAY buckets (365 points, two members);
 *  - `GET /exports/metrics.csv` of 1,000,000 HOUR rows (1912–2026), read as
 *    it streams, with the server's RSS sampled every 50 ms: the export must
 *    not hold its rows.
 *
 * Each against a floor in the same run: one bare GROUP BY over the same rows
 * as the database superuser (what no funnel can beat: it reads every row
 * once). Targets: funnel ≤ 1 s, allianceImpact ≤ 1 s.
 *
 *   npx tsc -p tsconfig.json && BENCH_DATABASE_URL=postgres://... node dist/bench/impact.js
 *
 * Environment: BENCH_DATABASE_URL (required), BENCH_EVENTS (default 1000000),
 * BENCH_REPEAT (default 3), BENCH_EXPORT_ROWS (default 1000000).
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { performance } from 'node:perf_hooks';
import { startBenchServer } from './ml/api';
import { BENCH_TRACKING_SECRET, benchAgreement, benchAlliance, benchBrands, graphql, machine, median, now, positiveInt, withClient, writeSection } from './support';

const LEARNERS = { lead: 60_000, partner: 20_000 };
const FUNNEL = `query($f: DateTime!, $t: DateTime!, $a: ID) { funnel(from: $f, to: $t, allianceId: $a) {
  current { satisfaction ratings stages { stage count rate } } previous { stages { stage count } } } }`;
const IMPACT = `query($a: ID!) { allianceImpact(allianceId: $a, from: "2025-01-01T00:00:00Z", to: "2026-01-01T00:00:00Z", bucket: DAY) {
  points { uplift } fit { points rSquared coefficients { name estimate } reason } } }`;
const HALF = { f: '2025-07-01T00:00:00Z', t: '2026-01-01T00:00:00Z' };
// The least a funnel does: one pass over the brand's events of both periods, per learner.
const FLOOR = `select count(*) filter (where reached) as reach from (
    select learner_id, bool_or(type = 'IMPRESSION' and occurred_at >= '2025-07-01') as reached, count(*) filter (where type = 'PURCHASE') as purchases
    from events where tenant_id = $1 and occurred_at >= '2025-01-01' and occurred_at < '2026-01-01' group by learner_id) t`;
const IMPACT_FLOOR = `select date_trunc('day', occurred_at), tenant_id, alliance_id is null, count(*), sum(rating) from events
  where type = 'RATING' and occurred_at >= '2025-01-01' and occurred_at < '2026-01-01' group by 1, 2, 3`;

const eventCount = positiveInt('BENCH_EVENTS', 1_000_000);
const repeat = positiveInt('BENCH_REPEAT', 3);
const exportRows = positiveInt('BENCH_EXPORT_ROWS', 1_000_000);
const adminUrl = process.env.BENCH_DATABASE_URL;

/** Seconds of one call. */
async function timed<T>(work: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const result = await work();
  return [(performance.now() - t) / 1000, result];
}

/**
 * Reads an export to its end in a child process (bench/export-reader.ts), so that this process's RSS is the
 * server's alone: rows, bytes, the sum of one column, seconds, and the server's RSS peak and at each quarter.
 */
function readExport(url: URL, token: string): Promise<{ rows: number; bytes: number; impressions: number; seconds: number; peakRss: number; rssAt: number[]; heapAt: number[] }> {
  return new Promise((resolve, reject) => {
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
    const rssAt: number[] = [];
    const heapAt: number[] = []; // live heap after a full collection: what the server holds, not garbage waiting
    const reader = fork(path.join(__dirname, 'export-reader.js'), [url.href, token, String(exportRows)], { stdio: 'inherit' });
    reader.on('message', (m: { quarter?: number; done?: { rows: number; bytes: number; impressions: number; seconds: number }; error?: string }) => {
      if (m.quarter) {
        rssAt.push(process.memoryUsage().rss);
        collectGarbage();
        heapAt.push(process.memoryUsage().heapUsed);
      }
      if (m.error) reject(new Error(m.error));
      if (m.done) {
        clearInterval(sampler);
        resolve({ ...m.done, peakRss, rssAt, heapAt });
      }
    });
    reader.on('exit', (code) => code !== 0 && reject(new Error(`the export reader exited with ${code}`)));
  });
}

/** A full garbage collection, made callable without starting node with --expose-gc. */
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

/** BENCH_EXPLAIN=1: the plans, with times, of the statements inside the functions the fields call (auto_explain). */
async function explain(url: string, tenant: string, allianceId: string): Promise<void> {
  await withClient(url, async (c) => {
    c.on('notice', (n) => console.log(n.message));
    await c.query(`load 'auto_explain'`);
    await c.query(`set auto_explain.log_min_duration = 0; set auto_explain.log_analyze = on; set auto_explain.log_nested_statements = on; set client_min_messages = log`);
    await c.query(`select set_config('app.tenant_id', $1, false)`, [tenant]);
    await c.query(`select allied_funnel(null, null, '2025-01-01T00:00:00Z', $1, $2)`, [HALF.f, HALF.t]);
    await c.query(`select * from allied_event_metrics(null, '2025-10-09T16:00:00Z', '2026-01-01T00:00:00Z', 'hour')`);
    await c.query(`select * from allied_alliance_satisfaction($1, '2025-01-01', '2026-01-01', 'day')`, [allianceId]);
  });
}

async function main(): Promise<void> {
  if (!adminUrl) throw new Error('Set BENCH_DATABASE_URL to a PostgreSQL server (bench/run-impact.sh starts one).');
  const bench = await startBenchServer(adminUrl, { ALLIED_TRACKING_SECRET: BENCH_TRACKING_SECRET, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' });
  const server = bench.server;
  try {
    const keys = bench.keys;
    const db = { url: bench.databaseUrl };
    const brands = await benchBrands(server.url, keys, ['impact-bench-lead', 'impact-bench-partner']);
    const [lead, partner] = brands;
    const allianceId = await benchAlliance(server.url, lead, [partner], 'Impact bench alliance');
    await benchAgreement(server.url, brands, allianceId, '2025-01-01T00:00:00Z', [6000, 4000]);
    const course = async (b: { token: string }, title: string, alliance?: string) =>
      (await graphql(server.url, b.token, `mutation($i: CreateCourseInput!) { createCourse(input: $i) { id } }`, {
        i: { title, topics: ['football'], level: 'BEGINNER', format: 'VIDEO', price: { amountMinor: 9900, currency: 'USD' }, allianceId: alliance },
      })).createCourse.id as string;
    const courses = { leadOwn: await course(lead, 'Lead course'), partnerOwn: await course(partner, 'Partner course'), joint: await course(lead, 'Joint course', allianceId) };

    const seedStart = performance.now();
    await withClient(db.url, async (c) => {
      for (const [b, n] of [[lead, LEARNERS.lead], [partner, LEARNERS.partner]] as const) {
        await c.query(`insert into learners (tenant_id, id, external_id) select $1, gen_random_uuid(), 'learner-' || g from generate_series(1, $2) g`, [b.id, n]);
      }
      // Event g of a brand: learner (g·7919) mod n, at g's share of 2025; by g mod 20: 10 impressions, 3 clicks,
      // 2 enrolments, 2 purchases, 3 ratings; every third purchase, enrolment and rating is of the joint course.
      // Ratings of the lead's own course lean high, the partner's low, the joint course's on both.
      const seed = (b: { id: string }, n: number, learners: number, own: string) =>
        c.query(
          `with ls as (select array_agg(id order by external_id) as ids from learners where tenant_id = $1),
                kinds as (select * from (values (0,'IMPRESSION'),(1,'IMPRESSION'),(2,'IMPRESSION'),(3,'IMPRESSION'),(4,'IMPRESSION'),(5,'IMPRESSION'),
                  (6,'IMPRESSION'),(7,'IMPRESSION'),(8,'IMPRESSION'),(9,'IMPRESSION'),(10,'CLICK'),(11,'CLICK'),(12,'CLICK'),(13,'ENROLL'),(14,'ENROLL'),
                  (15,'PURCHASE'),(16,'PURCHASE'),(17,'RATING'),(18,'RATING'),(19,'RATING')) as k(m, type))
           insert into events (tenant_id, id, idempotency_key, type, learner_id, occurred_at, course_tenant_id, course_id, alliance_id, amount_minor, currency, rating)
           select $1, gen_random_uuid(), 'e' || g, k.type, ls.ids[1 + (g::bigint * 7919) % $3],
                  timestamptz '2025-01-01' + make_interval(secs => (g::float8 / $2) * 31535999),
                  case when k.type in ('ENROLL', 'PURCHASE', 'RATING') then (case when g % 3 = 0 then $6::uuid else $1 end) end,
                  case when k.type in ('ENROLL', 'PURCHASE', 'RATING') then (case when g % 3 = 0 then $5::uuid else $4::uuid end) end,
                  case when k.type in ('ENROLL', 'PURCHASE', 'RATING') and g % 3 = 0 then $7::uuid end,
                  case when k.type = 'PURCHASE' then 100 + (g::bigint * 7919) % 100000 end,
                  case when k.type = 'PURCHASE' then 'USD' end,
                  case when k.type = 'RATING' then 1 + (g::bigint * 31 + (case when $1 = $6::uuid then 3 else 1 end)) % 5 end
           from generate_series(0, $2 - 1) g cross join ls join kinds k on k.m = g % 20`,
          [b.id, n, learners, own, courses.joint, lead.id, allianceId],
        );
      await seed(lead, eventCount, LEARNERS.lead, courses.leadOwn);
      await seed(partner, Math.round(eventCount / 5), LEARNERS.partner, courses.partnerOwn);
      // The learners' figures, as ingestion's lifecycle hook keeps them with the events.
      await c.query(`
        update learners l set purchases = x.purchases, first_purchase_at = x.first_purchase, first_seen_at = x.first_seen, last_seen_at = x.last_seen
        from (select tenant_id, learner_id, count(*) filter (where type = 'PURCHASE')::int as purchases, min(occurred_at) filter (where type = 'PURCHASE') as first_purchase,
                     min(occurred_at) as first_seen, max(occurred_at) as last_seen
              from events group by tenant_id, learner_id) x
        where l.tenant_id = x.tenant_id and l.id = x.learner_id`);
      await c.query('analyze');
    });
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const [{ total }] = await withClient(db.url, (c) => c.query('select count(*)::int as total from events').then((r) => r.rows));
    const [{ version }] = await withClient(db.url, (c) => c.query('select version()').then((r) => r.rows));
    console.log(`seeded ${total} events in ${seedSeconds.toFixed(1)} s`);

    if (process.env.BENCH_EXPLAIN === '1') await explain(db.url, lead.id, allianceId);
    const runs = { brandFunnel: [] as number[], allianceFunnel: [] as number[], impact: [] as number[], floor: [] as number[], impactFloor: [] as number[] };
    let brandFunnel: any;
    let impact: any;
    let floorRows: { reach: string }[] = [];
    for (let i = 0; i < repeat; i++) {
      let t: number;
      [t, brandFunnel] = await timed(() => graphql(server.url, lead.token, FUNNEL, HALF));
      runs.brandFunnel.push(t);
      [t] = await timed(() => graphql(server.url, partner.token, FUNNEL, { ...HALF, a: allianceId }));
      runs.allianceFunnel.push(t);
      [t, impact] = await timed(() => graphql(server.url, partner.token, IMPACT, { a: allianceId }));
      runs.impact.push(t);
      await withClient(db.url, async (c) => {
        [t, floorRows] = await timed(async () => (await c.query(FLOOR, [lead.id])).rows);
        runs.floor.push(t);
        [t] = await timed(() => c.query(IMPACT_FLOOR));
        runs.impactFloor.push(t);
      });
      console.log(`run ${i + 1}: ${Object.entries(runs).map(([k, v]) => `${k} ${v[i].toFixed(3)} s`).join(', ')}`);
    }
    const reach: number = brandFunnel.funnel.current.stages[0].count;
    const usable = impact.allianceImpact.fit.points;

    // The export: HOUR rows ending 2026-01-01, so 2025's events fall in its last ranges.
    const to = Date.parse('2026-01-01T00:00:00Z');
    const from = new Date(to - exportRows * 3_600_000).toISOString();
    const rssBefore = process.memoryUsage().rss;
    const exported = await readExport(new URL(`/exports/metrics.csv?from=${from}&to=2026-01-01T00:00:00Z&bucket=HOUR`, server.url), lead.token);
    const impressions = eventCount / 2;
    console.log(JSON.stringify({ exported, rssBefore, impressions }));
    const checks = {
      exportRows: exported.rows === exportRows,
      exportImpressions: exported.impressions === impressions,
      reachEqualsFloor: reach > 0 && reach === Number(floorRows[0].reach),
      impactPoints: impact.allianceImpact.points.length === 365,
    };
    if (!Object.values(checks).every(Boolean)) throw new Error(`Checks failed: ${JSON.stringify(checks)}; numbers not recorded.`);

    const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
    const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)])) as Record<keyof typeof runs, number>;
    const row = (name: string, values: number[], target: string) => `| ${name} | ${values.map((x) => x.toFixed(3)).join(' | ')} | ${median(values).toFixed(3)} | ${target} |`;
    const section = [
      '## impact',
      '',
      'Alliance impact on PostgreSQL, through the server (HTTP, end to end), against floors in the same run: bare GROUP BYs',
      'over the same rows as the database superuser.',
      '',
      `- Date: ${now()}`,
      `- Machine: ${machine()}`,
      `- PostgreSQL: ${String(version).split(', compiled by')[0]}`,
      `- Data: ${total.toLocaleString('en')} events over 2025 (the lead brand ${eventCount.toLocaleString('en')}, its partner ${Math.round(eventCount / 5).toLocaleString('en')}: ` +
        `impressions, clicks, enrolments, purchases and ratings, a third of the last three on the joint course), ${LEARNERS.lead.toLocaleString('en')} and ` +
        `${LEARNERS.partner.toLocaleString('en')} learners; seeded by SQL in ${seedSeconds.toFixed(0)} s, then ANALYZE.`,
      `- Brand funnel: \`funnel\` over ${HALF.f.slice(0, 10)}..${HALF.t.slice(0, 10)} with the half year before: all ${eventCount.toLocaleString('en')} of the brand's events; ` +
        `reach ${reach.toLocaleString('en')} learners, as the floor counts them. Alliance funnel: its joint courses (a third of the purchases, enrolments and ratings of both brands).`,
      `- allianceImpact: 365 DAY buckets, two members; ${usable} usable points; ` +
        (impact.allianceImpact.fit.rSquared === null ? `no fit: ${impact.allianceImpact.fit.reason.replace(/\.$/, '')}` : `R² ${impact.allianceImpact.fit.rSquared.toFixed(3)}`) + '.',
      `- ${repeat} runs each, alternating; the median is reported.`,
      '',
      `| | ${runs.floor.map((_x, i) => `run ${i + 1} s`).join(' | ')} | median s | target |`,
      '|---|' + '--:|'.repeat(repeat + 2),
      row('funnel (brand)', runs.brandFunnel, '≤ 1 s'),
      row('funnel (alliance)', runs.allianceFunnel, '≤ 1 s'),
      row('floor: one GROUP BY learner over both periods', runs.floor, ''),
      row('allianceImpact, a year of days', runs.impact, '≤ 1 s'),
      row('floor: ratings GROUP BY day, brand, joint', runs.impactFloor, ''),
      '',
      `**funnel (brand) ${m.brandFunnel.toFixed(2)} s** (${m.brandFunnel <= 1 ? 'met' : 'not met'}; ${(m.brandFunnel / m.floor).toFixed(1)}× its floor); ` +
        `funnel (alliance) ${m.allianceFunnel.toFixed(2)} s (${m.allianceFunnel <= 1 ? 'met' : 'not met'}); ` +
        `**allianceImpact ${m.impact.toFixed(2)} s** (${m.impact <= 1 ? 'met' : 'not met'}; ${(m.impact / m.impactFloor).toFixed(1)}× its floor).`,
      '',
      `Export: \`GET /exports/metrics.csv\` of ${exported.rows.toLocaleString('en')} HOUR rows (${from.slice(0, 10)}..2026-01-01; ${mb(exported.bytes)} MiB) in ` +
        `${exported.seconds.toFixed(1)} s (${Math.round(exported.rows / exported.seconds).toLocaleString('en')} rows/s), read as it streamed by a client in a process of its own; the impressions column ` +
        `sums to the ${impressions.toLocaleString('en')} seeded. Server RSS (the benchmark's process, where the server runs) ${mb(rssBefore)} MiB before, peak ${mb(exported.peakRss)} MiB ` +
        `during (+${mb(exported.peakRss - rssBefore)} MiB, against ${mb(exported.bytes)} MiB of CSV); at each quarter of the rows ${exported.rssAt.map(mb).join(', ')} MiB: ` +
        `${mb(exported.rssAt[exported.rssAt.length - 1] - exported.rssAt[0])} MiB more at the last than at the first; ` +
        `the live heap after a full collection at each quarter ${exported.heapAt.map(mb).join(', ')} MiB.`,
      '',
    ].join('\n');
    writeSection('impact', section);
    console.log(section);
  } finally {
    await bench.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
