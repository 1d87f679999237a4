/**
 * Joint loyalty, measured on a real server (in this process) on a throwaway
 * PostgreSQL database:
 *
 * 1. Earning inside ingestion: one brand's PURCHASE events of a joint course,
 *    through recordEvents in calls of BENCH_LOYALTY_BATCH (250) events with
 *    BENCH_LOYALTY_STREAMS (2) concurrent callers, for learners linked to a
 *    membership (each event earns) and, alternating, for learners of the
 *    same brand that are not (the loyalty hook finds no link and stops):
 *    BENCH_LOYALTY_ROUNDS (3) rounds of BENCH_LOYALTY_CALLS (40) calls each.
 *    Target: earning costs at most 15% of the throughput.
 * 2. Redemptions: BENCH_LOYALTY_CLIENTS (32) concurrent clients redeeming
 *    1 point each (own idempotency keys) at both member brands for
 *    BENCH_LOYALTY_SECONDS (15) s, spread over BENCH_LOYALTY_MEMBERS (500)
 *    memberships. Target: 500 redemptions/s, p99 ≤ 50 ms. Two rounds, each
 *    followed by its floor: the same clients reading the same memberships'
 *    balances (the smallest request that reads a membership).
 *
 * The clients run in this process: their own work shares the two cores
 * with the server's. Prints one JSON object.
 */
import crypto from 'node:crypto';
import { signToken } from '../src/tenancy/credentials';
import { Role } from '../src/tenancy/roles';
import { log, startBenchServer, type BenchServer } from './ml/api';
import { BENCH_TRACKING_SECRET, graphql, machine, positiveInt, withClient } from './support';

const RECORD = `mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted } }`;
const REDEEM = `mutation($i: RedeemLoyaltyPointsInput!) { redeemLoyaltyPoints(input: $i) { points } }`;
const BALANCE = `query($l: ID!) { learner(id: $l) { loyalty { balance } } }`;

interface Brand {
  id: string;
  token: string;
}

async function brand(bench: BenchServer, name: string): Promise<Brand> {
  const admin = signToken(bench.keys, { sub: 'bench-admin', roles: [Role.PLATFORM_ADMIN] }, 3600);
  const id = (await graphql(bench.url, admin, `mutation($i: CreateBrandInput!) { createBrand(input: $i) { id } }`, {
    i: { slug: `${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${Date.now()}`, name, kind: "KNOWLEDGE_PLATFORM" },
  })).createBrand.id as string;
  return { id, token: signToken(bench.keys, { sub: 'bench-owner', tid: id, roles: [Role.OWNER] }, 3600) };
}

/** An ACTIVE alliance of the two with an ACTIVE programme, and a joint course of the first. */
async function alliance(bench: BenchServer, a: Brand, b: Brand): Promise<{ allianceId: string; course: string }> {
  const allianceId = (await graphql(bench.url, a.token, `mutation($i: CreateAllianceInput!) { createAlliance(input: $i) { id } }`, {
    i: { name: 'Bench', purpose: 'Joint courses', inviteBrandIds: [b.id] },
  })).createAlliance.id as string;
  await graphql(bench.url, b.token, `mutation($a: ID!) { respondToInvitation(allianceId: $a, accept: true) { status } }`, { a: allianceId });
  const agreement = (await graphql(bench.url, a.token, `mutation($i: ProposeAgreementInput!) { proposeAgreement(input: $i) { id } }`, {
    i: { allianceId, effectiveFrom: '2026-01-01T00:00:00Z', shares: [{ brandId: a.id, basisPoints: 5000 }, { brandId: b.id, basisPoints: 5000 }] },
  })).proposeAgreement.id;
  await graphql(bench.url, b.token, `mutation($id: ID!) { acceptAgreement(agreementId: $id) { status } }`, { id: agreement });
  const program = (await graphql(bench.url, a.token, `mutation($i: CreateLoyaltyProgramInput!) { createLoyaltyProgram(input: $i) { id } }`, {
    i: { allianceId, earnRates: [{ currency: 'USD', points: 1 }], redemptionValues: [{ currency: 'USD', minorPerPoint: 1 }] },
  })).createLoyaltyProgram.id;
  await graphql(bench.url, b.token, `mutation($id: ID!) { acceptLoyaltyProgram(programId: $id) { status } }`, { id: program });
  const course = (await graphql(bench.url, a.token, `mutation($i: CreateCourseInput!) { createCourse(input: $i) { id } }`, {
    i: { title: 'Joint', topics: ['python'], level: 'BEGINNER', format: 'VIDEO', price: { amountMinor: 4900, currency: 'USD' }, allianceId },
  })).createCourse.id as string;
  return { allianceId, course };
}

/** `n` learners of each brand (external ids `prefix-i`), the i-th of both linked to one new membership; seeded by SQL. */
async function memberships(bench: BenchServer, allianceId: string, brands: Brand[], prefix: string, n: number): Promise<void> {
  await withClient(bench.databaseUrl, async (client) => {
    const members = Array.from({ length: n }, () => crypto.randomUUID());
    await client.query(
      `insert into loyalty_members (alliance_id, id, code_hash, enrolled_by)
       select $1, m, encode(sha256(m::text::bytea), 'hex'), $2 from unnest($3::uuid[]) m`,
      [allianceId, brands[0].id, members],
    );
    for (const b of brands) {
      await client.query(
        `insert into learners (tenant_id, id, external_id, last_seen_at)
         select $1, gen_random_uuid(), $2 || '-' || g, now() from generate_series(0, $3 - 1) g`,
        [b.id, prefix, n],
      );
      await client.query(
        `insert into loyalty_links (tenant_id, learner_id, alliance_id, member_id)
         select $1, l.id, $2, ($3::uuid[])[substring(l.external_id from '[0-9]+$')::int + 1]
         from learners l where l.tenant_id = $1 and l.external_id like $4`,
        [b.id, allianceId, members, `${prefix}-%`],
      );
    }
  });
}

/** Events per second through recordEvents for learners `prefix-0..n-1`. */
async function ingest(bench: BenchServer, a: Brand, course: string, prefix: string, n: number, calls: number, batch: number, streams: number, round: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: streams }, async () => {
      for (let call = next++; call < calls; call = next++) {
        const events = Array.from({ length: batch }, (_, i) => ({
          type: 'PURCHASE', idempotencyKey: `${prefix}-${round}-${call}-${i}`, learnerExternalId: `${prefix}-${(call * batch + i) % n}`, courseId: course,
          amount: { amountMinor: 4900, currency: 'USD' }, occurredAt: new Date().toISOString(),
        }));
        await graphql(bench.url, a.token, RECORD, { e: events });
      }
    }),
  );
  return (calls * batch) / ((performance.now() - started) / 1000);
}

/** Learner ids of each brand's memberships, in the order they were seeded. */
async function linkedLearners(bench: BenchServer, brands: Brand[], prefix: string): Promise<string[][]> {
  return Promise.all(
    brands.map(async (b) => {
      const rows = await withClient(bench.databaseUrl, (c) => c.query(`select id from learners where tenant_id = $1 and external_id like $2 order by external_id`, [b.id, `${prefix}-%`]));
      return rows.rows.map((r: { id: string }) => r.id);
    }),
  );
}

/**
 * `clients` concurrent clients sending `request(i)` (alternating brands, i
 * counting up) for `seconds` s: requests/s and latency percentiles.
 */
async function load(bench: BenchServer, brands: Brand[], clients: number, seconds: number, request: (i: number, client: number) => { query: string; variables: Record<string, unknown> }) {
  const latencies: number[] = [];
  let failed = 0;
  let n = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < deadline) {
        const i = n++;
        const { query, variables } = request(i, client);
        const t = performance.now();
        try {
          await graphql(bench.url, brands[i % brands.length].token, query, variables);
          latencies.push(performance.now() - t);
        } catch {
          failed++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((x, y) => x - y);
  const pct = (p: number) => +latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))].toFixed(1);
  return { requests: latencies.length, failed, perSecond: Math.round(latencies.length / elapsed), p50Ms: pct(0.5), p99Ms: pct(0.99) };
}

async function main(): Promise<void> {
  const adminUrl = process.env.BENCH_DATABASE_URL;
  if (!adminUrl) throw new Error('BENCH_DATABASE_URL is needed (bench/run-loyalty.sh starts a cluster)');
  const batch = positiveInt('BENCH_LOYALTY_BATCH', 250);
  const streams = positiveInt('BENCH_LOYALTY_STREAMS', 2);
  const rounds = positiveInt('BENCH_LOYALTY_ROUNDS', 3);
  const calls = positiveInt('BENCH_LOYALTY_CALLS', 40);
  const members = positiveInt('BENCH_LOYALTY_MEMBERS', 500);
  const clients = positiveInt('BENCH_LOYALTY_CLIENTS', 32);
  const seconds = positiveInt('BENCH_LOYALTY_SECONDS', 15);
  const bench = await startBenchServer(adminUrl, { ALLIED_TRACKING_SECRET: BENCH_TRACKING_SECRET });
  try {
    const [a, b] = [await brand(bench, 'Loyalty A'), await brand(bench, 'Loyalty B')];
    const { allianceId, course } = await alliance(bench, a, b);
    await memberships(bench, allianceId, [a, b], 'in', members);
    await withClient(bench.databaseUrl, (c) =>
      c.query(`insert into learners (tenant_id, id, external_id, last_seen_at) select $1, gen_random_uuid(), 'out-' || g, now() from generate_series(0, $2 - 1) g`, [a.id, members]),
    );
    log(`warming up`);
    await ingest(bench, a, course, 'in', members, 4, batch, streams, -1);
    await ingest(bench, a, course, 'out', members, 4, batch, streams, -1);
    const earning: { linked: number; unlinked: number }[] = [];
    for (let round = 0; round < rounds; round++) {
      const unlinked = await ingest(bench, a, course, 'out', members, calls, batch, streams, round);
      const linked = await ingest(bench, a, course, 'in', members, calls, batch, streams, round);
      earning.push({ linked: Math.round(linked), unlinked: Math.round(unlinked) });
      log(`round ${round + 1}: ${Math.round(linked)} events/s earning, ${Math.round(unlinked)} without (${(linked / unlinked).toFixed(3)})`);
    }
    const ratios = earning.map((e) => +(e.linked / e.unlinked).toFixed(3));
    // Redemptions, alternating with the floor: the same clients reading the same memberships' balances (one small read transaction).
    const ids = await linkedLearners(bench, [a, b], 'in');
    const redemptions: Awaited<ReturnType<typeof load>>[] = [];
    const floor: Awaited<ReturnType<typeof load>>[] = [];
    for (let round = 0; round < 2; round++) {
      log(`round ${round + 1}: redeeming with ${clients} clients for ${seconds} s, then reading balances`);
      redemptions.push(
        await load(bench, [a, b], clients, seconds, (i, client) => ({
          query: REDEEM,
          variables: { i: { learnerId: ids[i % 2][i % members], points: 1, currency: 'USD', idempotencyKey: `r-${round}-${client}-${i}` } },
        })),
      );
      floor.push(await load(bench, [a, b], clients, seconds, (i) => ({ query: BALANCE, variables: { l: ids[i % 2][i % members] } })));
      const [r, f] = [redemptions[round], floor[round]];
      log(`${r.perSecond} redemptions/s (p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ${r.failed} failed); balance reads ${f.perSecond}/s (p99 ${f.p99Ms} ms)`);
    }
    console.log(
      JSON.stringify({
        machine: machine(),
        date: new Date().toISOString(),
        earning: { batch, streams, calls, rounds: earning, ratios, target: 0.85 },
        redemptions: { clients, seconds, rounds: redemptions, balanceReads: floor, target: { perSecond: 500, p99Ms: 50 } },
      }),
    );
  } finally {
    await bench.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
