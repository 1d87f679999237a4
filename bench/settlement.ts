/**
 * Settlement benchmark: `runSettlement` over 1,000,000 purchase and refund
 * events of one alliance (5 members, 3 agreement versions, one year) on
 * PostgreSQL, through the real server, against the floor of one bare
 * `SELECT ... GROUP BY` summing the same rows.
 *
 *  1. A throwaway database gets Allied's migrations; the server starts on it.
 *  2. Through GraphQL: 5 brands, an alliance of all of them, agreement
 *     versions from 2025-01-01, 2025-05-01 and 2025-09-01 with different
 *     shares, and a joint course.
 *  3. As the database superuser (the benchmark measures settling, not
 *     ingesting): learners, then 90% purchases spread evenly over 2025 and the
 *     members, and 10% refunds of half a purchase 1–10 days later; ANALYZE.
 *  4. BENCH_REPEAT times each, alternating: runSettlement for USD over 2025
 *     (HTTP, end to end), and the floor query. The server's net must equal the
 *     floor's purchases − refunds, and its lines must sum to it.
 *
 * The numbers go into the `## settlement` section of bench/RESULTS.md.
 *
 *   npx tsc -p tsconfig.json && BENCH_DATABASE_URL=postgres://... node dist/bench/settlement.js
 *
 * Environment: BENCH_DATABASE_URL (required), BENCH_EVENTS (default 1000000),
 * BENCH_REPEAT (default 3), BENCH_KEEP_DATABASE=1 (keep the database, to
 * study its plans; the URL is printed).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/database';
import { createLogger } from '../src/logger';
import { startServer } from '../src/server';
import { resolveJwtKeys } from '../src/tenancy/credentials';
import { BENCH_TRACKING_SECRET, benchAgreement, benchAlliance, benchBrands, graphql, machine, median, now, positiveInt, throwawayDatabase, withClient, writeSection } from './support';

const JWT_SECRET = 'allied-bench-secret-0123456789-abcdefghij';
const MEMBERS = 5;
const LEARNERS_PER_BRAND = 500;
const VERSIONS: [from: string, shares: number[]][] = [
  ['2025-01-01T00:00:00Z', [2000, 2000, 2000, 2000, 2000]],
  ['2025-05-01T00:00:00Z', [3000, 2500, 2000, 1500, 1000]],
  ['2025-09-01T00:00:00Z', [1111, 2222, 3333, 1667, 1667]],
];
const PERIOD = { start: '2025-01-01T00:00:00Z', end: '2026-01-01T00:00:00Z' };
const RUN = `mutation($i: RunSettlementInput!) { runSettlement(input: $i) {
  id gross { amountMinor } refunds { amountMinor } net { amountMinor } eventCount unsettledEventCount
  lines { agreementVersion shareBasisPoints amount { amountMinor } } } }`;
const FLOOR = `select type, count(*) as events, sum(amount_minor)::text as total from events
  where alliance_id = $1 and currency = 'USD' and type in ('PURCHASE', 'REFUND') and occurred_at >= $2 and occurred_at < $3
  group by type`;

const eventCount = positiveInt('BENCH_EVENTS', 1_000_000);
const repeat = positiveInt('BENCH_REPEAT', 3);
const adminUrl = process.env.BENCH_DATABASE_URL;


async function main(): Promise<void> {
  if (!adminUrl) throw new Error('Set BENCH_DATABASE_URL to a PostgreSQL server (bench/run-settlement.sh starts one).');
  process.env.NODE_ENV ??= 'production';
  const db = await throwawayDatabase(adminUrl);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'allied-bench-'));
  const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ALLIED_DEMO: 'false', DATABASE_URL: db.url, ALLIED_DATA_DIR: dir, ALLIED_TRACKING_SECRET: BENCH_TRACKING_SECRET });
  const database = await openDatabase(config);
  const server = await startServer(config, database, createLogger('silent'));
  try {
    const keys = resolveJwtKeys(config);
    const brands = await benchBrands(server.url, keys, Array.from({ length: MEMBERS }, (_, i) => `settle-bench-${i}`));
    const [lead, ...others] = brands;
    const allianceId = await benchAlliance(server.url, lead, others, 'Settlement bench alliance');
    for (const [effectiveFrom, shares] of VERSIONS) await benchAgreement(server.url, brands, allianceId, effectiveFrom, shares);
    const { createCourse } = await graphql(server.url, lead.token, `mutation($i: CreateCourseInput!) { createCourse(input: $i) { id } }`, {
      i: { title: 'Joint course', topics: ['football'], level: 'BEGINNER', format: 'VIDEO', price: { amountMinor: 9900, currency: 'USD' }, allianceId },
    });
    const courseId = createCourse.id as string;

    const seedStart = performance.now();
    await withClient(db.url, async (c) => {
      await c.query(
        `insert into learners (tenant_id, id, external_id)
         select b, gen_random_uuid(), 'learner-' || g from unnest($1::uuid[]) b, generate_series(1, $2) g`,
        [brands.map((b) => b.id), LEARNERS_PER_BRAND],
      );
      const purchases = Math.round(eventCount * 0.9);
      // Purchase g: brand g % 5, spread evenly over 2025; every ninth is half refunded 1–10 days later.
      await c.query(
        `with ls as (select tenant_id, array_agg(id order by external_id) as ids from learners group by tenant_id),
              bs as (select b, ord from unnest($1::uuid[]) with ordinality as t(b, ord))
         insert into events (tenant_id, id, idempotency_key, type, learner_id, occurred_at, course_tenant_id, course_id, alliance_id, amount_minor, currency)
         select bs.b, gen_random_uuid(), 'p' || g, 'PURCHASE', ls.ids[1 + (g / 5) % $5], timestamptz '2025-01-01' + make_interval(secs => (g::float8 / $2) * 31535999),
                $3, $4, $6, 100 + (g::bigint * 7919) % 100000, 'USD'
         from generate_series(0, $2 - 1) g
         join bs on bs.ord = 1 + g % 5
         join ls on ls.tenant_id = bs.b`,
        [brands.map((b) => b.id), purchases, lead.id, courseId, LEARNERS_PER_BRAND, allianceId],
      );
      await c.query(
        `insert into events (tenant_id, id, idempotency_key, type, learner_id, occurred_at, course_tenant_id, course_id, alliance_id, amount_minor, currency, refund_of, refund_purchase_at)
         select p.tenant_id, gen_random_uuid(), 'r' || p.idempotency_key, 'REFUND', p.learner_id,
                p.occurred_at + make_interval(days => 1 + (substr(p.idempotency_key, 2)::int % 10)),
                p.course_tenant_id, p.course_id, p.alliance_id, greatest(1, p.amount_minor / 2), p.currency, p.id, p.occurred_at
         from events p where p.type = 'PURCHASE' and substr(p.idempotency_key, 2)::int % 9 = 0 and p.alliance_id = $1
         limit $2`,
        [allianceId, eventCount - purchases],
      );
      await c.query('analyze');
    });
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const [{ total }] = await withClient(db.url, (c) => c.query('select count(*)::int as total from events').then((r) => r.rows));
    const [{ version }] = await withClient(db.url, (c) => c.query('select version()').then((r) => r.rows));
    console.log(`seeded ${total} events in ${seedSeconds.toFixed(1)} s`);

    const ours: number[] = [];
    const floor: number[] = [];
    // Where the time goes: the floor without parallel workers, and the settlement's SQL function alone (as the lead, under RLS).
    const serialFloor: number[] = [];
    const functionAlone: number[] = [];
    let result: any;
    let floorRows: { type: string; events: string; total: string }[] = [];
    for (let i = 0; i < repeat; i++) {
      let t = performance.now();
      result = (await graphql(server.url, lead.token, RUN, { i: { allianceId, currency: 'USD', periodStart: PERIOD.start, periodEnd: PERIOD.end } })).runSettlement;
      ours.push((performance.now() - t) / 1000);
      floorRows = await withClient(db.url, async (c) => {
        t = performance.now();
        const rows = (await c.query(FLOOR, [allianceId, PERIOD.start, PERIOD.end])).rows;
        floor.push((performance.now() - t) / 1000);
        return rows;
      });
      await withClient(db.url, async (c) => {
        await c.query('begin');
        await c.query('set local max_parallel_workers_per_gather = 0');
        t = performance.now();
        await c.query(FLOOR, [allianceId, PERIOD.start, PERIOD.end]);
        serialFloor.push((performance.now() - t) / 1000);
        await c.query('rollback');
        await c.query('begin');
        await c.query(`select set_config('role', 'allied_app', true), set_config('app.tenant_id', $1, true)`, [lead.id]);
        t = performance.now();
        await c.query(`select * from allied_settlement_figures($1, 'USD', $2, $3)`, [allianceId, PERIOD.start, PERIOD.end]);
        functionAlone.push((performance.now() - t) / 1000);
        await c.query('rollback');
      });
      console.log(
        `run ${i + 1}: runSettlement ${ours[i].toFixed(2)} s, floor ${floor[i].toFixed(2)} s, ` +
          `floor without parallel workers ${serialFloor[i].toFixed(2)} s, allied_settlement_figures alone ${functionAlone[i].toFixed(2)} s`,
      );
    }
    if (process.env.BENCH_EXPLAIN === '1') {
      // The plan inside the function, as PostgreSQL ran it (auto_explain's notices).
      await withClient(db.url, async (c) => {
        c.on('notice', (n) => console.log(n.message));
        await c.query(`load 'auto_explain'`);
        await c.query('begin');
        for (const setting of ['log_min_duration = 0', 'log_nested_statements = on', 'log_analyze = on', 'log_buffers = on', 'log_level = notice']) {
          await c.query(`set local auto_explain.${setting}`);
        }
        await c.query(`select set_config('role', 'allied_app', true), set_config('app.tenant_id', $1, true)`, [lead.id]);
        await c.query(`select * from allied_settlement_figures($1, 'USD', $2, $3)`, [allianceId, PERIOD.start, PERIOD.end]);
        await c.query('rollback');
      });
    }
    const byType = new Map(floorRows.map((r) => [r.type, r]));
    const floorNet = BigInt(byType.get('PURCHASE')?.total ?? 0) - BigInt(byType.get('REFUND')?.total ?? 0);
    const floorEvents = floorRows.reduce((n, r) => n + Number(r.events), 0);
    const linesSum = result.lines.reduce((s: bigint, l: any) => s + BigInt(l.amount.amountMinor), 0n);
    const checks = {
      netMatchesFloor: BigInt(result.net.amountMinor) === floorNet,
      eventsMatchFloor: result.eventCount === floorEvents,
      linesSumToNet: linesSum === BigInt(result.net.amountMinor),
    };
    console.log(JSON.stringify({ net: result.net.amountMinor, floorNet: String(floorNet), events: result.eventCount, floorEvents, checks }));
    if (!Object.values(checks).every(Boolean)) throw new Error('The settlement does not match the floor; numbers not recorded.');

    const [m, f] = [median(ours), median(floor)];
    const section = [
      '## settlement',
      '',
      '`runSettlement` for one alliance, USD, over 2025, through the server (HTTP, end to end), against the floor: one bare',
      '`SELECT type, count(*), sum(amount_minor) FROM events WHERE alliance_id = … AND currency = … AND occurred_at in the period GROUP BY type`',
      'as the database superuser on the same rows.',
      '',
      `- Date: ${now()}`,
      `- Machine: ${machine()}`,
      `- PostgreSQL: ${String(version).split(', compiled by')[0]}`,
      `- Data: ${total.toLocaleString('en')} events in the table (${result.eventCount.toLocaleString('en')} in the period: purchases and refunds of a joint course), ` +
        `${MEMBERS} members, ${VERSIONS.length} agreement versions (from ${VERSIONS.map(([from]) => from.slice(0, 10)).join(', ')}), ` +
        `seeded by SQL in ${seedSeconds.toFixed(0)} s, then ANALYZE.`,
      `- Checked: the server's net (${result.net.amountMinor}) equals the floor's purchases − refunds, its event count equals the floor's, and its ${result.lines.length} lines sum to net.`,
      `- ${repeat} runs each, alternating; the median is reported.`,
      '',
      '| | run 1 s | ' + ours.slice(1).map((_x, i) => `run ${i + 2} s`).join(' | ') + ' | median s |',
      '|---|' + '--:|'.repeat(repeat + 1),
      `| runSettlement | ${ours.map((x) => x.toFixed(2)).join(' | ')} | ${m.toFixed(2)} |`,
      `| floor (GROUP BY) | ${floor.map((x) => x.toFixed(2)).join(' | ')} | ${f.toFixed(2)} |`,
      `| floor without parallel workers | ${serialFloor.map((x) => x.toFixed(2)).join(' | ')} | ${median(serialFloor).toFixed(2)} |`,
      `| allied_settlement_figures alone (SQL, as the lead) | ${functionAlone.map((x) => x.toFixed(2)).join(' | ')} | ${median(functionAlone).toFixed(2)} |`,
      '',
      `**ours ÷ floor = ${(m / f).toFixed(2)}** (target ≤ 2): ${m / f <= 2 ? 'met' : 'not met'}; ` +
        `runSettlement ${m.toFixed(2)} s (target ≤ 10 s): ${m <= 10 ? 'met' : 'not met'}.`,
      '',
    ].join('\n');
    writeSection('settlement', section);
    console.log(section);
  } finally {
    await server.stop();
    await database.close();
    if (process.env.BENCH_KEEP_DATABASE === '1') console.log(`kept the database: ${db.url}`);
    else await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
