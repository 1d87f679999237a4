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
 * PostGraphile peer, BENCH_ROUNDS (alternating rounds, default 2), BENCH_SCENARIOS (own, alliance,
 * portal: comma-separated, all by default).
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
import { BENCH_TRACKING_SECRET, benchAgreement, benchAlliance, benchBrands, machine, nonNegativeInt, now, positiveInt, RESULTS_FILE, throwawayDatabase, withClient, writeSection } from './support';

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
/** Which scenarios to run: own, alliance, portal (comma-separated; all by default). */
const scenarios = new Set((process.env.BENCH_SCENARIOS || 'own,alliance,portal').split(',').map((s) => s.trim()));


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
  queries: { allied: string; peer: string };
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

/** A read served by Allied and by the peer, what Allied's answer must hold, and both answers in one comparable shape. */
interface Scenario {
  name: string;
  query: string;
  peerQuery: string;
  /** Throws when Allied's answer is not the expected one. */
  check(data: any): void;
  /** What must be equal in both answers, from Allied's and from the peer's. */
  ours(data: any): unknown;
  theirs(data: any): unknown;
}

interface CourseRow {
  title: string;
  price: string;
  owner: string;
}
type AlliedCourses = { edges: { node: { title: string; price: { amountMinor: number; currency: string }; owner: { name: string } } }[] };
type PeerCourses = { nodes?: PeerCourse[]; edges?: { node: PeerCourse }[] };
type PeerCourse = { title: string; priceMinor: string | number; currency: string; brandByTenantId: { name: string } };
const alliedCourses = (c: AlliedCourses): CourseRow[] =>
  c.edges.map((e) => ({ title: e.node.title, price: `${e.node.price.amountMinor} ${e.node.price.currency}`, owner: e.node.owner.name }));
const peerCourses = (c: PeerCourses): CourseRow[] =>
  (c.nodes ?? c.edges!.map((e) => e.node)).map((n) => ({ title: n.title, price: `${n.priceMinor} ${n.currency}`, owner: n.brandByTenantId.name }));
/** A full page of courses, every one owned by one of `owners`. */
function checkPage(rows: CourseRow[], owners: string[]): void {
  if (rows.length !== PAGE) throw new Error(`expected ${PAGE} courses, got ${rows.length}`);
  const foreign = rows.filter((r) => !owners.includes(r.owner));
  if (foreign.length > 0) throw new Error(`the page holds ${foreign.length} courses of brands outside ${owners.join(', ')}: ${foreign[0].owner}`);
}

const OWN_PAGE: Scenario = {
  name: 'own catalog',
  query: CATALOG_QUERY,
  peerQuery: PEER_QUERY,
  check: (data) => checkPage(alliedCourses(data.courses), ['Northwind Academy']),
  ours: (data) => alliedCourses(data.courses),
  theirs: (data) => peerCourses(data.allCourses),
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
  check(data) {
    const rows = alliedCourses(data.courses);
    checkPage(rows, ['Northwind Academy', 'eastgate club', 'westfield league']);
    if (new Set(rows.map((r) => r.owner)).size < 2) throw new Error(`the ALLIANCE page holds only ${rows[0].owner}'s courses: no joint course`);
  },
  ours: OWN_PAGE.ours,
  theirs: OWN_PAGE.theirs,
};
const ALLIANCE_SCENARIO_COURSES = 10_000;

type Amounts = Record<string, number>;
const money = (list: { amountMinor: number; currency: string }[]): Amounts => Object.fromEntries(list.map((m) => [m.currency, m.amountMinor]));
const numbers = (map: Record<string, string | number> | null | undefined): Amounts =>
  Object.fromEntries(Object.entries(map ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([c, v]) => [c, Number(v)]));

/**
 * The partner portal's landing query: an alliance with its joint courses, its joint campaigns with their
 * figures, and its active agreement's shares. PostGraphile's equivalent, written by hand: the same tables
 * through their foreign keys (courses and campaigns by alliance_id, newest first; agreements filtered to
 * ACTIVE; shares by agreement), and the campaign figures from the same SQL function Allied calls,
 * allied_campaign_metrics, exposed as the computed column campaigns_metrics (bench-only, created in the
 * throwaway database before the peer starts). It returns the function's JSON as it is: CTR and conversion
 * rate are left to the client, and money is a map of currency to amount, not a typed list.
 */
function portalScenario(allianceId: string): Scenario {
  type Figures = { impressions: number; clicks: number; conversions: number; revenue: Amounts; spend: Amounts };
  const view = (courses: CourseRow[], campaigns: ({ name: string } & Figures)[], shares: { brand: string; basisPoints: number }[]) => ({
    courses,
    campaigns,
    shares: [...shares].sort((a, b) => a.brand.localeCompare(b.brand)),
  });
  return {
    name: 'partner portal: alliance with courses, campaigns { metrics }, activeAgreement { shares }',
    query: `{ alliance(id: "${allianceId}") { name
      courses(first: ${PAGE}) { edges { node { id title price { amountMinor currency } owner { name } } } }
      campaigns(first: 20) { edges { node { id name metrics { impressions clicks ctr conversions conversionRate revenue { amountMinor currency } spend { amountMinor currency } } } } }
      activeAgreement { version shares { basisPoints brand { name } } } } }`,
    peerQuery: `{ allianceByRowId(rowId: "${allianceId}") { name
      coursesByAllianceId(first: ${PAGE}, orderBy: [CREATED_AT_DESC, PRIMARY_KEY_DESC]) { nodes { id title priceMinor currency brandByTenantId { name } } }
      campaignsByAllianceId(first: 20, orderBy: [CREATED_AT_DESC, PRIMARY_KEY_DESC]) { nodes { id name metrics } }
      agreementsByAllianceId(condition: { status: "ACTIVE" }) { nodes { version agreementSharesByAgreementId { nodes { basisPoints brandByBrandId { name } } } } } } }`,
    check(data) {
      const a = data.alliance;
      checkPage(alliedCourses(a.courses), ['Northwind Academy', 'eastgate club']);
      if (a.campaigns.edges.length !== PORTAL_CAMPAIGNS) throw new Error(`expected ${PORTAL_CAMPAIGNS} joint campaigns, got ${a.campaigns.edges.length}`);
      if (a.campaigns.edges.some((e: any) => e.node.metrics.impressions !== 300 || e.node.metrics.conversions !== 5)) throw new Error('a campaign lacks its figures');
      if (a.activeAgreement?.shares.length !== 2) throw new Error('the alliance has no active agreement of two shares');
    },
    ours: (data) =>
      view(
        alliedCourses(data.alliance.courses),
        data.alliance.campaigns.edges.map(({ node: { name, metrics: m } }: any) => ({ name, impressions: m.impressions, clicks: m.clicks, conversions: m.conversions, revenue: money(m.revenue), spend: money(m.spend) })),
        data.alliance.activeAgreement.shares.map((s: any) => ({ brand: s.brand.name, basisPoints: s.basisPoints })),
      ),
    theirs: (data) => {
      const a = data.allianceByRowId;
      const [agreement] = a.agreementsByAllianceId.nodes;
      return view(
        peerCourses(a.coursesByAllianceId),
        a.campaignsByAllianceId.nodes.map(({ name, metrics: m }: any) => ({ name, impressions: Number(m.impressions), clicks: Number(m.clicks), conversions: Number(m.conversions), revenue: numbers(m.revenue), spend: numbers(m.spend) })),
        agreement.agreementSharesByAgreementId.nodes.map((s: any) => ({ brand: s.brandByBrandId.name, basisPoints: s.basisPoints })),
      );
    },
  };
}

/** The portal's campaign figures as PostGraphile exposes a computed column: a function of the row, in the throwaway database. */
async function addPeerMetricsColumn(databaseUrl: string): Promise<void> {
  await withClient(databaseUrl, async (client) => {
    await client.query(`create function campaigns_metrics(c campaigns) returns jsonb language sql stable as $$ select allied_campaign_metrics(c.id) $$`);
    await client.query(`grant execute on function campaigns_metrics(campaigns) to allied_app`);
  });
}
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
    if (kind === 'postgres' && runPeer) await addPeerMetricsColumn(databaseUrlOf(database));
    const peer = kind === 'postgres' && runPeer ? await startPeer(databaseUrlOf(database), config.databasePoolSize) : undefined;
    try {
      const outcomes: Outcome[] = [];
      if (scenarios.has('own')) outcomes.push(await measureScenario(kind, OWN_PAGE, server.url, owner, config.databasePoolSize, database, peer));
      if (kind === 'postgres' && (scenarios.has('alliance') || scenarios.has('portal'))) {
        const seeded = await seedAlliances(api, keys, owner, databaseUrlOf(database));
        if (scenarios.has('alliance')) outcomes.push(await measureScenario(kind, ALLIANCE_PAGE, server.url, owner, config.databasePoolSize, database, peer));
        if (scenarios.has('portal')) await seedPortal(api, seeded);
        if (scenarios.has('portal')) outcomes.push(await measureScenario(kind, portalScenario(seeded.allianceId), server.url, owner, config.databasePoolSize, database, peer));
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
  const peerBody = peer ? await verifyPeer(peer.url, owner, body, scenario) : '';
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
  const floorPool = new pg.Pool({ connectionString: databaseUrlOf(database), max: poolSize, pipeline: true });
  // Dropping the database afterwards terminates idle connections; that is not a failure.
  floorPool.on('error', () => undefined);
  try {
    const [{ version }] = (await floorPool.query<{ version: string }>('select version()')).rows;
    const floorLoad = await loadFloor(floorPool, statements);
    console.log(`floor:  ${describe(floorLoad)}`);
    console.log(`floor ÷ server: ${(floorLoad.perSecond / best(serverLoads)).toFixed(2)}`);
    const queries = { allied: scenario.query, peer: scenario.peerQuery };
    return { database: kind, scenario: scenario.name, version, poolSize, server: serverLoads, peer: peerLoads, floor: floorLoad, statements, queries };
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
async function seedAlliances(api: Api, keys: JwtKeys, owner: string, databaseUrl: string): Promise<Seeded> {
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
  await withClient(databaseUrl, async (client) => {
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
  });
  return { lead, partner: partners[0], allianceId: alliances[0], databaseUrl };
}

interface Seeded {
  lead: { id: string; token: string };
  partner: { id: string; token: string };
  allianceId: string;
  /** The database, for statements as its owner. */
  databaseUrl: string;
}

const PORTAL_CAMPAIGNS = 12;

/**
 * For the partner portal: PORTAL_CAMPAIGNS joint campaigns in the first alliance, half the lead's and half the
 * partner's, each with three spend records and 300 impressions, 30 clicks and 5 purchases of a joint course naming
 * it, all through the API; then distinct creation times, so that both servers list them in one order.
 */
async function seedPortal(api: Api, seeded: Seeded): Promise<void> {
  const { lead, partner, allianceId, databaseUrl } = seeded;
  const [{ id: courseId }] = await withClient(databaseUrl, (client) =>
    client.query<{ id: string }>('select id from courses where alliance_id = $1 limit 1', [allianceId]).then((r) => r.rows),
  );
  const day = 86_400_000;
  for (let c = 0; c < PORTAL_CAMPAIGNS; c++) {
    const by = c % 2 ? partner : lead;
    const { data } = await api.post(by.token, `mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { id } }`, {
      i: { name: `Portal campaign ${c + 1}`, kind: 'AD_PLACEMENT', allianceId, startsAt: new Date(Date.now() - 30 * day).toISOString(), budget: { amountMinor: 500_000, currency: 'USD' } },
    });
    const campaignId = data.createCampaign.id as string;
    for (let w = 0; w < 3; w++) {
      await api.post(by.token, `mutation($c: ID!, $a: MoneyInput!, $at: DateTime!) { recordCampaignSpend(campaignId: $c, amount: $a, occurredAt: $at) { id } }`, {
        c: campaignId,
        a: { amountMinor: 10_000 + 2_500 * ((c + w) % 4), currency: 'USD' },
        at: new Date(Date.now() - (20 - 7 * w) * day).toISOString(),
      });
    }
    const at = (i: number) => new Date(Date.now() - (i % 14) * day - 3_600_000).toISOString();
    const event = (type: string, i: number, extra: Record<string, unknown> = {}) => ({
      idempotencyKey: `portal-${c}-${type}-${i}`, type, learnerExternalId: `portal-${c}-${i}`, occurredAt: at(i), campaignId, ...extra,
    });
    const events = [
      ...Array.from({ length: 300 }, (_, i) => event('IMPRESSION', i)),
      ...Array.from({ length: 30 }, (_, i) => event('CLICK', i)),
      ...Array.from({ length: 5 }, (_, i) => event('PURCHASE', i, { courseId, amount: { amountMinor: 4900 + 100 * c, currency: 'USD' } })),
    ];
    const { data: recorded } = await api.post(by.token, `mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted rejected { message } } }`, { e: events });
    if (recorded.recordEvents.accepted !== events.length) throw new Error(`portal events refused: ${JSON.stringify(recorded.recordEvents.rejected.slice(0, 3))}`);
  }
  await withClient(databaseUrl, async (client) => {
    await client.query(
      `update campaigns c set created_at = now() - make_interval(secs => r.k)
       from (select tenant_id, id, row_number() over (order by md5(id::text)) as k from campaigns) r
       where c.tenant_id = r.tenant_id and c.id = r.id`,
    );
    await client.query('analyze');
  });
  console.log(`seeded ${PORTAL_CAMPAIGNS} joint campaigns with spend and 335 events each`);
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
    ALLIED_TRACKING_SECRET: BENCH_TRACKING_SECRET,
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

/**
 * The peer's answer must hold what Allied's does (the same courses in the same order with the same titles,
 * prices and owners; for the portal also the same campaign figures and shares). Returns the peer's body.
 */
async function verifyPeer(url: string, owner: string, alliedBody: string, scenario: Scenario): Promise<string> {
  const { text, data } = await new Api(url).post(owner, scenario.peerQuery);
  const ours = JSON.stringify(scenario.ours(JSON.parse(alliedBody).data));
  const theirs = JSON.stringify(scenario.theirs(data));
  if (ours !== theirs) {
    let at = 0;
    while (at < ours.length && ours[at] === theirs[at]) at++;
    throw new Error(`PostGraphile's answer differs from Allied's at character ${at}: …${theirs.slice(Math.max(0, at - 80), at + 120)}… against …${ours.slice(Math.max(0, at - 80), at + 120)}…`);
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
  const captured: (Statement & { client: pg.Client })[] = [];
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, config: unknown, values?: unknown, ...rest: unknown[]) {
    const text = typeof config === 'string' ? config : (config as { text?: string }).text;
    const params = typeof config === 'string' ? values : ((config as { values?: unknown }).values ?? values);
    if (text !== undefined) {
      captured.push({ text, values: Array.isArray(params) ? [...(params as unknown[])] : undefined, client: this });
    }
    return (query as (...args: unknown[]) => unknown).call(this, config, values, ...rest);
  } as typeof query;
  let result: { text: string; data: any };
  try {
    result = await api.post(owner, scenario.query);
  } finally {
    pg.Client.prototype.query = query;
  }
  scenario.check(result.data);
  // Only the request's own transaction: the server's job workers poll on other connections meanwhile.
  const own = captured.find((c) => /set_config\('role'/.test(c.text))?.client;
  const statements = captured.filter((c) => c.client === own).map(({ text, values }) => ({ text, values }));
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
    let rest = statements;
    // As the server sends them: BEGIN, the tenant set-up and the operation's first statement in one write and one round trip.
    if (statements.length > 1 && /^(begin|start transaction)$/i.test(statements[0].text)) {
      const first = statements.slice(0, Math.min(3, statements.length - 1));
      const stream = (client as unknown as { connection: { stream: { cork(): void; uncork(): void } } }).connection.stream;
      stream.cork();
      const sent = first.map((s) => client.query(s.text, s.values));
      stream.uncork();
      counts.push(...(await Promise.all(sent)).map((r) => r.rowCount ?? 0));
      rest = statements.slice(first.length);
    }
    for (const s of rest) counts.push((await client.query(s.text, s.values)).rowCount ?? 0);
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
  const statements = (outcomes.find((o) => o.scenario === OWN_PAGE.name) ?? outcomes[0]).statements.map((s) => `\`${abbreviate(oneLine(s.text))}\``).join('; ');
  const portal = outcomes.find((o) => o.scenario.startsWith('partner portal'));
  const anonymous = (query: string) => query.replace(/"[0-9a-f-]{36}"/g, '"…"').replace(/\n\s+/g, '\n  ');
  const portalQueries = portal
    ? [
        '',
        `and the partner portal's landing query, as the lead of the first alliance (${PORTAL_CAMPAIGNS} joint campaigns, half its own and half the partner's, ` +
          'each with 3 spend records and 300 impressions, 30 clicks and 5 purchases through the API):',
        '',
        '```graphql',
        anonymous(portal.queries.allied),
        '```',
        '',
        'PostGraphile\'s equivalent, written by hand (see portalScenario in bench/catalog.ts for how it differs):',
        '',
        '```graphql',
        anonymous(portal.queries.peer),
        '```',
      ]
    : [];
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
    ...portalQueries,
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
    `- Floor: per iteration, one pooled \`pg\` connection (pipelining, as the server's) runs the server's statements for one request of the scenario, ` +
      `with the same parameters, BEGIN, the set-up and the first statement in one write as the server sends them (own catalog: ${statements}).`,
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
