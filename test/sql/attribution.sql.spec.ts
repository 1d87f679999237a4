/**
 * The attribution and settlement functions called directly on generated rows,
 * against the TypeScript oracles (test/support/attribution.ts,
 * settlement-model.ts). Each case is inserted in a transaction that is rolled
 * back, so one database serves the whole suite.
 */
import crypto from 'node:crypto';
import fc from 'fast-check';
import type { QueryRunner } from 'typeorm';
import { APP_ROLE } from '../../src/db/data-source';
import { splitVersions } from '../../src/services/settlement.service';
import { allianceRevenueEvents, campaignFigures, netRevenue, purchaseCampaign, type SentEvent, type World } from '../support/attribution';
import { openTestDatabase } from '../support/database';
import { settle, type ModelVersion } from '../support/settlement-model';

const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const uuid = () => crypto.randomUUID();

const scenario = fc.record({
  windows: fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 3, maxLength: 3 }),
  versionStarts: fc.uniqueArray(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 3 }).map((s) => s.sort((x, y) => x - y)),
  events: fc.array(
    fc.record({
      brand: fc.integer({ min: 0, max: 2 }),
      learner: fc.integer({ min: 0, max: 1 }),
      // Hours over 15 days: clicks and purchases of one learner collide in time often enough to test ties,
      // and a purchase naming no campaign often has clicks on two campaigns within their windows before it.
      hour: fc.integer({ min: 0, max: 15 * 24 }).map((h) => h - (h % 6)),
      kind: fc.constantFrom('CLICK', 'CLICK', 'PURCHASE', 'PURCHASE', 'IMPRESSION'),
      // Often none: a purchase naming no campaign is the one the last-click rule decides.
      campaign: fc.option(fc.integer({ min: 0, max: 2 }), { nil: null, freq: 2 }),
      jointCourse: fc.boolean(),
      amount: fc.integer({ min: 1, max: 100_000 }),
      currency: fc.constantFrom('USD', 'USD', 'EUR'),
      refundAfterHours: fc.option(fc.integer({ min: 1, max: 24 * 20 }), { nil: null }),
    }),
    // At least 25: fast-check's default sizes would give a handful, too few for clicks to compete.
    { minLength: 25, maxLength: 40 },
  ),
  period: fc.tuple(fc.integer({ min: 0, max: 14 }), fc.integer({ min: 1, max: 15 })).map(([a, n]) => [a, Math.min(15, a + n)]),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

describe('attribution in SQL against the TypeScript oracle', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  beforeAll(async () => {
    db = await openTestDatabase();
  });
  afterAll(async () => {
    await db?.close();
  });

  /** Inserts one scenario as ingestion would store it; returns the oracle's view of it. */
  async function insert(q: QueryRunner, s: Scenario) {
    const brands = [uuid(), uuid(), uuid()];
    const alliance = uuid();
    for (const [i, b] of brands.entries()) {
      await q.query(`insert into brands (id, slug, name, kind) values ($1, $2, $3, 'PUBLISHER')`, [b, `b-${b.slice(0, 8)}-${i}`, `Brand ${i}`]);
    }
    await q.query(`insert into alliances (id, name, status, created_by) values ($1, 'A', 'ACTIVE', $2)`, [alliance, brands[0]]);
    // Brands 0 and 1 are ACTIVE members; brand 2 is not in the alliance.
    for (const [i, b] of brands.slice(0, 2).entries()) {
      await q.query(`insert into alliance_members (alliance_id, brand_id, role, status, joined_at) values ($1, $2, $3, 'ACTIVE', now())`, [alliance, b, i ? 'MEMBER' : 'LEAD']);
    }
    const learners = brands.map(() => [uuid(), uuid(), uuid()]);
    for (const [i, b] of brands.entries()) {
      for (const [j, l] of learners[i].entries()) await q.query(`insert into learners (tenant_id, id, external_id) values ($1, $2, $3)`, [b, l, `l${j}`]);
    }
    // Per brand: an own course and a joint course (owned by the brand, joint in the alliance for members).
    const courses = brands.map((b, i) => ({ own: uuid(), joint: i < 2 ? uuid() : null, brand: b }));
    const world: World = { campaigns: new Map(), courseAlliance: new Map() };
    for (const c of courses) {
      await q.query(`insert into courses (tenant_id, id, title, level, format, price_minor, currency) values ($1, $2, 'c', 'BEGINNER', 'VIDEO', 1, 'USD')`, [c.brand, c.own]);
      world.courseAlliance.set(c.own, null);
      if (c.joint) {
        await q.query(`insert into courses (tenant_id, id, title, level, format, price_minor, currency, alliance_id) values ($1, $2, 'j', 'BEGINNER', 'VIDEO', 1, 'USD', $3)`, [c.brand, c.joint, alliance]);
        world.courseAlliance.set(c.joint, alliance);
      }
    }
    // Campaign 0: brand 0's own; 1 and 2: joint campaigns of brand 0 and brand 1.
    const campaigns = [0, 1, 2].map((k) => ({ id: uuid(), tenant: brands[k === 2 ? 1 : 0], alliance: k === 0 ? null : alliance, window: s.windows[k] }));
    for (const k of campaigns) {
      await q.query(
        `insert into campaigns (tenant_id, id, alliance_id, name, kind, starts_at, budget_minor, currency, attribution_window_days)
         values ($1, $2, $3, 'k', 'JOINT_MARKETING', '2025-01-01', 0, 'USD', $4)`,
        [k.tenant, k.id, k.alliance, k.window],
      );
      world.campaigns.set(k.id, { windowDays: k.window, alliance: k.alliance });
    }
    const sent: SentEvent[] = [];
    const stored: { alliance: string | null; key: string }[] = [];
    const row = async (e: SentEvent, tenant: string, learner: string, id: string, alliance: string | null, refundOf: string | null) => {
      const k = campaigns.find((c) => c.id === e.campaignId);
      await q.query(
        `insert into events (tenant_id, id, idempotency_key, type, learner_id, occurred_at, course_tenant_id, course_id,
           campaign_tenant_id, campaign_id, alliance_id, amount_minor, currency, refund_of, refund_purchase_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                 (select p.occurred_at from events p where p.tenant_id = $1 and p.id = $14))`,
        [tenant, id, e.idempotencyKey, e.type, learner, e.occurredAt, e.courseId ? tenant : null, e.courseId ?? null, k?.tenant ?? null,
          k?.id ?? null, alliance, e.amount?.amountMinor ?? null, e.amount?.currency ?? null, refundOf],
      );
      sent.push(e);
      stored.push({ alliance, key: e.idempotencyKey });
    };
    for (const [n, g] of s.events.entries()) {
      // Brand 2 sees no joint campaign: it names brand 0's own campaign only if it is its... none; so it names none.
      const k = g.brand === 2 || g.campaign === null ? null : campaigns[g.campaign];
      if (g.kind !== 'PURCHASE' && !k) continue;
      const course = g.kind === 'PURCHASE' ? (g.jointCourse && courses[g.brand].joint) || courses[g.brand].own : undefined;
      const e: SentEvent = {
        brand: brands[g.brand], idempotencyKey: `e${n}`, type: g.kind, learnerExternalId: `l${g.learner}`,
        occurredAt: new Date(T0 + g.hour * 3_600_000).toISOString(), courseId: course, campaignId: k?.id,
        amount: g.kind === 'PURCHASE' ? { amountMinor: g.amount, currency: g.currency } : undefined,
      };
      const alliance = (course ? world.courseAlliance.get(course) : null) ?? k?.alliance ?? null;
      const id = uuid();
      await row(e, brands[g.brand], learners[g.brand][g.learner], id, alliance, null);
      if (g.kind === 'PURCHASE' && g.refundAfterHours !== null) {
        const r: SentEvent = {
          brand: e.brand, idempotencyKey: `r${n}`, type: 'REFUND', learnerExternalId: e.learnerExternalId, courseId: course, refundOf: e.idempotencyKey,
          occurredAt: new Date(T0 + (g.hour + g.refundAfterHours) * 3_600_000).toISOString(), amount: { amountMinor: Math.ceil(g.amount / 2), currency: g.currency },
        };
        await row(r, brands[g.brand], learners[g.brand][g.learner], uuid(), alliance, id);
      }
    }
    return { brands, alliance, campaigns, world, sent };
  }

  /** Runs `fn` as the application role with `tenant` set, as a tenant transaction does. */
  async function as<T>(q: QueryRunner, tenant: string, fn: () => Promise<T>): Promise<T> {
    await q.query(`select set_config('role', $1, true), set_config('app.tenant_id', $2, true)`, [APP_ROLE, tenant]);
    return fn();
  }

  it('campaign metrics, brand and alliance figures and settlement figures agree with the oracle', async () => {
    const samples = fc.sample(scenario, { numRuns: 100, seed: 20261201 });
    for (const s of samples) {
      const q = db.dataSource.createQueryRunner();
      try {
        await q.startTransaction();
        const { brands, alliance, campaigns, world, sent } = await insert(q, s);
        const [from, to] = [T0 + s.period[0] * DAY, T0 + s.period[1] * DAY];
        const versions: ModelVersion[] = s.versionStarts.map((d, i) => ({
          id: uuid(), version: i + 1, from: T0 + d * DAY, to: i + 1 < s.versionStarts.length ? T0 + s.versionStarts[i + 1] * DAY : null,
          shares: [{ brandId: brands[0], basisPoints: 6000 }, { brandId: brands[1], basisPoints: 4000 }],
        }));
        for (const v of versions) {
          await q.query(
            `insert into agreements (alliance_id, id, version, status, effective_from, effective_to, proposed_by) values ($1, $2, $3, $4, $5, $6, $7)`,
            [alliance, v.id, v.version, v.to === null ? 'ACTIVE' : 'SUPERSEDED', new Date(v.from), v.to === null ? null : new Date(v.to), brands[0]],
          );
        }

        await as(q, brands[0], async () => {
          for (const k of campaigns) {
            const [{ m }] = await q.query(`select allied_campaign_metrics($1) as m`, [k.id]);
            const want = campaignFigures(k.id, sent, world);
            expect({ impressions: m.impressions, clicks: m.clicks, conversions: m.conversions, revenue: revenueList(m.revenue) }).toEqual(want);
          }
          // The alliance's figures over the period: its revenue and the conversions among its purchases.
          const revenueEvents = allianceRevenueEvents(alliance, sent, world, from, to);
          const [alliance_] = await q.query(`select figures from allied_event_metrics($1, $2, $3, null)`, [alliance, new Date(from), new Date(to)]);
          const purchases = revenueEvents.filter((e) => e.type === 'PURCHASE');
          expect(alliance_ ? revenueList(alliance_.figures.revenue) : []).toEqual(netRevenue(revenueEvents));
          expect(alliance_?.figures.conversions ?? 0).toBe(purchases.filter((p) => purchaseCampaign(p, sent, world) !== null).length);

          // Settlement figures in USD, split as the service splits them, against the model.
          const rows = await q.query(`select agreement_id, gross::text, refunds::text, clawbacks::text, events::int from allied_settlement_figures($1, 'USD', $2, $3)`, [alliance, new Date(from), new Date(to)]);
          const atOf = (e: SentEvent) => Date.parse(e.occurredAt);
          const purchaseAt = (e: SentEvent) => (e.type === 'PURCHASE' ? atOf(e) : atOf(sent.find((p) => p.brand === e.brand && p.idempotencyKey === e.refundOf)!));
          const usd = revenueEvents.filter((e) => e.amount!.currency === 'USD');
          const model = settle(usd.map((e) => ({ type: e.type as 'PURCHASE' | 'REFUND', amount: e.amount!.amountMinor, at: atOf(e), purchaseAt: purchaseAt(e) })), versions, from, to);
          const settled = rows.filter((r: { agreement_id: string | null }) => r.agreement_id !== null);
          const figures = settled.map((r: { agreement_id: string; gross: string; refunds: string; clawbacks: string; events: number }) => ({ agreementId: r.agreement_id, gross: BigInt(r.gross), refunds: BigInt(r.refunds), clawbacks: BigInt(r.clawbacks), events: r.events }));
          const terms = new Map(versions.map((v) => [v.id, { version: v.version, shares: v.shares }]));
          expect(splitVersions(figures.filter((f: { events: number }) => f.events > 0), terms)).toEqual(model.lines);
          expect(figures.reduce((n: number, f: { events: number }) => n + f.events, 0)).toBe(model.events);
          expect(rows.filter((r: { agreement_id: string | null }) => r.agreement_id === null).reduce((n: number, r: { events: number }) => n + r.events, 0)).toBe(model.unsettled);
          const clawbacks = usd.filter((e) => e.type === 'REFUND' && purchaseAt(e) < from && versions.some((v) => v.from <= purchaseAt(e) && (v.to === null || purchaseAt(e) < v.to)));
          expect(figures.reduce((n: bigint, f: { clawbacks: bigint }) => n + f.clawbacks, 0n)).toBe(clawbacks.reduce((n, e) => n + BigInt(e.amount!.amountMinor), 0n));
        });

        // Each brand's own figures: all its money, conversions by the attribution rule.
        for (const b of brands) {
          await as(q, b, async () => {
            const own = sent.filter((e) => e.brand === b && Date.parse(e.occurredAt) >= from && Date.parse(e.occurredAt) < to);
            const [r] = await q.query(`select figures from allied_event_metrics(null, $1, $2, null)`, [new Date(from), new Date(to)]);
            const money = own.filter((e) => e.type === 'PURCHASE' || e.type === 'REFUND');
            expect(r ? revenueList(r.figures.revenue) : []).toEqual(netRevenue(money));
            expect(r?.figures.conversions ?? 0).toBe(own.filter((p) => p.type === 'PURCHASE' && purchaseCampaign(p, sent, world) !== null).length);
          });
        }
      } finally {
        await q.rollbackTransaction();
        await q.release();
      }
    }
  });
});

const revenueList = (byCurrency: Record<string, string>) =>
  Object.entries(byCurrency).sort(([x], [y]) => x.localeCompare(y)).map(([currency, amount]) => ({ amountMinor: Number(amount), currency }));
