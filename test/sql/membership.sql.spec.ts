/**
 * The remaining SQL functions called directly: the tenant settings, the
 * input validators, the membership functions the RLS policies consult, and
 * the guard that keeps FINALIZED settlements final. Each generated case is
 * inserted in a transaction that is rolled back; one database per suite.
 */
import crypto from 'node:crypto';
import fc from 'fast-check';
import type { QueryRunner } from 'typeorm';
import { APP_ROLE } from '../../src/db/data-source';
import { openTestDatabase } from '../support/database';

const uuid = () => crypto.randomUUID();
const STATUSES = ['INVITED', 'ACTIVE', 'DECLINED', 'LEFT'] as const;
const ALLIANCE_STATUSES = ['FORMING', 'ACTIVE', 'DISSOLVED'] as const;

describe('membership, validation and settlement-guard functions against their rules', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  beforeAll(async () => {
    db = await openTestDatabase();
  });
  afterAll(async () => {
    await db?.close();
  });

  async function inRolledBack<T>(fn: (q: QueryRunner) => Promise<T>): Promise<T> {
    const q = db.dataSource.createQueryRunner();
    try {
      await q.startTransaction();
      return await fn(q);
    } finally {
      await q.rollbackTransaction();
      await q.release();
    }
  }

  /** Sets the tenant as a tenant transaction does (transaction-local), optionally as the application role. */
  const asTenant = (q: QueryRunner, tenant: string | null, admin = false) =>
    q.query(`select set_config('app.tenant_id', $1, true), set_config('app.platform_admin', $2, true)`, [tenant ?? '', admin ? 'on' : 'off']);

  it('reads the tenant and the platform-admin flag from the transaction settings', async () => {
    await inRolledBack(async (q) => {
      const id = uuid();
      await asTenant(q, id);
      expect(await q.query(`select allied_current_tenant()::text as t, allied_is_platform_admin() as a`)).toEqual([{ t: id, a: false }]);
      await asTenant(q, null, true);
      expect(await q.query(`select allied_current_tenant() as t, allied_is_platform_admin() as a`)).toEqual([{ t: null, a: true }]);
    });
  });

  it('validates topics and resources exactly as the rules say', async () => {
    // Mostly valid elements, and sizes up to and past the limits (fast-check's
    // default sizes stay small), so a limit off by one shows.
    const name = fc.oneof(
      { weight: 60, arbitrary: fc.string({ minLength: 1, maxLength: 64 }) },
      { weight: 1, arbitrary: fc.constant('') },
      { weight: 1, arbitrary: fc.string({ minLength: 65, maxLength: 70 }) },
    );
    const topics = fc.array(fc.option(name, { nil: null, freq: 200 }), { maxLength: 24, size: 'max' });
    const validTopics = (t: (string | null)[]) => t.length <= 20 && t.every((x) => x !== null && [...x].length >= 1 && [...x].length <= 64);
    const value = fc.oneof(
      { weight: 40, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
      { weight: 3, arbitrary: fc.constantFrom(0, 1, -0.01, 1.01) },
      { weight: 1, arbitrary: fc.oneof(fc.string(), fc.boolean(), fc.constant(null)) },
    );
    const resources = fc.oneof(
      fc.dictionary(name, value, { maxKeys: 36, size: 'max' }),
      fc.constantFrom<unknown>([], 3, 'text', [0.5]),
    );
    const validResources = (r: unknown) =>
      typeof r === 'object' && r !== null && !Array.isArray(r) && Object.keys(r).length <= 32 &&
      Object.entries(r).every(([k, v]) => [...k].length >= 1 && [...k].length <= 64 && typeof v === 'number' && v >= 0 && v <= 1);
    await inRolledBack(async (q) => {
      for (const t of fc.sample(topics, { numRuns: 300, seed: 1201 })) {
        const [{ ok }] = await q.query(`select allied_valid_topics($1::text[]) as ok`, [t]);
        expect({ t, ok }).toEqual({ t, ok: validTopics(t) });
      }
      // The limits themselves, and one past each.
      const full = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`capability-${i}`, 0.5]));
      const edges = [full(32), full(33), { [`${'k'.repeat(64)}`]: 1 }, { [`${'k'.repeat(65)}`]: 1 }, { a: 0 }, { a: 1 }, { a: -0.001 }, { a: 1.001 }];
      for (const r of [...edges, ...fc.sample(resources, { numRuns: 300, seed: 1202 })]) {
        const [{ ok }] = await q.query(`select allied_valid_resources($1::jsonb) as ok`, [JSON.stringify(r)]);
        expect({ r, ok }).toEqual({ r, ok: validResources(r) });
      }
    });
  });

  it('answers membership as the brand sees it: active, visible, partners, creator, settled and former alliances', async () => {
    const scenario = fc.record({
      alliances: fc.array(
        fc.record({
          status: fc.constantFrom(...ALLIANCE_STATUSES),
          creator: fc.integer({ min: 0, max: 3 }),
          members: fc.array(fc.constantFrom(...STATUSES, null), { minLength: 4, maxLength: 4 }),
          settledWith: fc.subarray([0, 1, 2, 3]),
          statusAtExit: fc.constantFrom<string | null>(null, 'ACTIVE', 'FORMING'),
        }),
        { minLength: 1, maxLength: 4 },
      ),
    });
    for (const s of fc.sample(scenario, { numRuns: 40, seed: 1203 })) {
      await inRolledBack(async (q) => {
        const brands = [0, 1, 2, 3].map(() => uuid());
        for (const [i, b] of brands.entries()) {
          await q.query(`insert into brands (id, slug, name, kind) values ($1, $2, $3, 'PUBLISHER')`, [b, `m-${b.slice(0, 8)}-${i}`, `B${i}`]);
        }
        const alliances = s.alliances.map((a) => ({ ...a, id: uuid() }));
        for (const a of alliances) {
          await q.query(`insert into alliances (id, name, status, created_by) values ($1, 'A', $2, $3)`, [a.id, a.status, brands[a.creator]]);
          for (const [i, status] of a.members.entries()) {
            if (status === null) continue;
            await q.query(
              `insert into alliance_members (alliance_id, brand_id, role, status, joined_at, alliance_status_at_exit) values ($1, $2, 'MEMBER', $3, now(), $4)`,
              [a.id, brands[i], status, status === 'LEFT' ? a.statusAtExit : null],
            );
          }
          if (a.settledWith.length > 0) {
            const agreement = uuid();
            await q.query(`insert into agreements (alliance_id, id, version, status, effective_from, proposed_by) values ($1, $2, 1, 'ACTIVE', '2026-01-01', $3)`, [a.id, agreement, brands[a.creator]]);
            const settlement = uuid();
            await q.query(
              `insert into settlements (alliance_id, id, currency, period_start, period_end, gross_minor, refunds_minor, clawbacks_minor, net_minor, event_count, unsettled_count, run_by)
               values ($1, $2, 'USD', '2026-01-01', '2026-02-01', 0, 0, 0, 0, 0, 0, $3)`,
              [a.id, settlement, brands[a.creator]],
            );
            for (const i of a.settledWith) {
              await q.query(
                `insert into settlement_lines (alliance_id, settlement_id, agreement_id, agreement_version, brand_id, share_basis_points, version_net_minor, amount_minor)
                 values ($1, $2, $3, 1, $4, 0, 0, 0)`,
                [a.id, settlement, agreement, brands[i]],
              );
            }
            (a as { settlement?: string }).settlement = settlement;
          }
        }
        for (const [i, brand] of brands.entries()) {
          await asTenant(q, brand);
          await q.query(`select set_config('role', $1, true)`, [APP_ROLE]);
          const ids = async (sql: string) => ((await q.query(sql)) as { id: string }[]).map((r) => r.id).sort();
          const having = (pred: (a: (typeof alliances)[number]) => boolean) => alliances.filter(pred).map((a) => a.id).sort();
          const statusOf = (a: (typeof alliances)[number]) => a.members[i];
          expect(await ids(`select x as id from allied_active_alliances() x`)).toEqual(having((a) => statusOf(a) === 'ACTIVE'));
          expect(await ids(`select x as id from allied_visible_alliances() x`)).toEqual(having((a) => statusOf(a) === 'ACTIVE' || statusOf(a) === 'INVITED'));
          const partners = new Set<string>();
          for (const a of alliances) {
            if (statusOf(a) !== 'ACTIVE' || a.status === 'DISSOLVED') continue;
            a.members.forEach((m, j) => m === 'ACTIVE' && j !== i && partners.add(brands[j]));
          }
          expect(await ids(`select x as id from allied_partner_brands() x`)).toEqual([...partners].sort());
          const settled = alliances.filter((a) => a.settledWith.includes(i));
          expect(await ids(`select x as id from allied_settled_alliances() x`)).toEqual(settled.map((a) => a.id).sort());
          expect(await ids(`select x as id from allied_own_settlements() x`)).toEqual(settled.map((a) => (a as { settlement?: string }).settlement!).sort());
          for (const a of alliances) {
            expect(await q.query(`select allied_alliance_creator($1)::text as c`, [a.id])).toEqual([{ c: brands[a.creator] }]);
            // A brand sees an alliance it left only through its settlements, as the alliance was when it left.
            const former = await q.query(`select status from allied_former_alliance($1)`, [a.id]);
            const visible = statusOf(a) === 'ACTIVE' || statusOf(a) === 'INVITED';
            const expected = statusOf(a) !== null && !visible && a.settledWith.includes(i) ? [{ status: statusOf(a) === 'LEFT' && a.statusAtExit ? a.statusAtExit : a.status }] : [];
            expect({ alliance: a.id, former }).toEqual({ alliance: a.id, former: expected });
          }
          await q.query(`select set_config('role', current_user, true)`);
        }
      });
    }
  });

  it('keeps a FINALIZED settlement and its lines as they are, whoever asks', async () => {
    await inRolledBack(async (q) => {
      const brand = uuid();
      const alliance = uuid();
      const settlement = uuid();
      const agreement = uuid();
      await q.query(`insert into brands (id, slug, name, kind) values ($1, $2, 'B', 'PUBLISHER')`, [brand, `f-${brand.slice(0, 8)}`]);
      await q.query(`insert into alliances (id, name, status, created_by) values ($1, 'A', 'ACTIVE', $2)`, [alliance, brand]);
      await q.query(`insert into agreements (alliance_id, id, version, status, effective_from, proposed_by) values ($1, $2, 1, 'ACTIVE', '2026-01-01', $3)`, [alliance, agreement, brand]);
      await q.query(
        `insert into settlements (alliance_id, id, currency, period_start, period_end, gross_minor, refunds_minor, clawbacks_minor, net_minor, event_count, unsettled_count, run_by)
         values ($1, $2, 'USD', '2026-01-01', '2026-02-01', 5, 0, 0, 5, 1, 0, $3)`,
        [alliance, settlement, brand],
      );
      const line = `insert into settlement_lines (alliance_id, settlement_id, agreement_id, agreement_version, brand_id, share_basis_points, version_net_minor, amount_minor) values ($1, $2, $3, 1, $4, 10000, 5, 5)`;
      // A DRAFT may change.
      await q.query(line, [alliance, settlement, agreement, brand]);
      await q.query(`update settlements set net_minor = 5, status = 'FINALIZED', finalized_at = now(), finalized_by = $2 where id = $1`, [settlement, brand]);
      for (const [sql, params] of [
        [`update settlements set net_minor = 6 where id = $1`, [settlement]],
        [`delete from settlements where id = $1`, [settlement]],
        [`update settlement_lines set amount_minor = 6 where settlement_id = $1`, [settlement]],
        [`delete from settlement_lines where settlement_id = $1`, [settlement]],
      ] as const) {
        await q.query('savepoint s');
        await expect(q.query(sql, [...params])).rejects.toThrow(/FINALIZED/);
        await q.query('rollback to savepoint s');
      }
      expect(await q.query(`select net_minor::int as n from settlements where id = $1`, [settlement])).toEqual([{ n: 5 }]);
    });
  });
});
