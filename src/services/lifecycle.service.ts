import { EventType } from '../entities/enums';
import { DEFAULT_LAPSED_DAYS, DEFAULT_NEW_DAYS, LIFECYCLE_JOIN, LIFECYCLE_STAGE_SQL, LIFECYCLE_STAGES } from '../entities/rows';
import { badInput } from '../errors';
import type { RequestContext } from '../tenancy/context';
import type { AfterStoreHook, StoredEvent } from './event.service';

/**
 * Lifecycle stages, kept current from events:
 *
 * - LAPSED: nothing recorded for the learner in `lapsedDays` days (90);
 * - PROSPECT: seen within that, never bought;
 * - NEW: its first purchase is under `newDays` days old (30), however many
 *   purchases followed;
 * - ACTIVE: bought, its first purchase older than that, and still seen
 *   within `lapsedDays`. (Buying more than once is what makes most such
 *   learners active; a one-time buyer still engaging is counted ACTIVE
 *   too, not left without a stage.)
 *
 * Any event counts as being seen, an impression included. A refund does not
 * undo a purchase's count: stages describe what the learner did. Each
 * learner's row keeps its purchases, first purchase, first and last seen times,
 * updated with the events in their transaction; the stage is read from them
 * and the clock (allied_lifecycle_stage), so a learner moves from NEW to
 * ACTIVE, or to LAPSED, as time passes without any event.
 */
export type LifecycleStageName = (typeof LIFECYCLE_STAGES)[number];


export interface LifecycleThresholds {
  newDays: number;
  lapsedDays: number;
}

export type LifecycleCountsView = Record<'prospect' | 'new' | 'active' | 'lapsed', number>;


export class LifecycleService {
  /** Updates the purchases, first purchase, first and last seen times of the stored events' learners, in their transaction (the funnel reads first seen). */
  readonly afterStore: AfterStoreHook = (ctx, stored) => this.record(ctx, stored);

  private async record(ctx: RequestContext, stored: readonly StoredEvent[]): Promise<void> {
    const byLearner = new Map<string, { purchases: number; firstPurchase: Date | null; firstSeen: Date; lastSeen: Date }>();
    for (const e of stored) {
      const l = byLearner.get(e.learner) ?? { purchases: 0, firstPurchase: null, firstSeen: e.at, lastSeen: e.at };
      if (e.at > l.lastSeen) l.lastSeen = e.at;
      if (e.at < l.firstSeen) l.firstSeen = e.at;
      if (e.type === EventType.PURCHASE) {
        l.purchases++;
        if (!l.firstPurchase || e.at < l.firstPurchase) l.firstPurchase = e.at;
      }
      byLearner.set(e.learner, l);
    }
    if (byLearner.size === 0) return;
    const ids = [...byLearner.keys()].sort();
    const manager = await ctx.manager();
    // Rows locked in id order first, so two calls touching the same learners never deadlock. NO KEY UPDATE, the
    // lock the update itself takes: it does not wait for the key-share locks that the events' foreign keys hold.
    // Both statements are issued together: PostgreSQL runs them in order, in one round trip on a pipelining connection.
    const lock = manager.query(`select id from learners where tenant_id = $1 and id = any($2::uuid[]) order by id for no key update`, [ctx.brandId, ids]);
    const update = manager.query(
      `update learners l set purchases = l.purchases + u.purchases,
         first_purchase_at = least(l.first_purchase_at, u.first_purchase), last_seen_at = greatest(l.last_seen_at, u.last_seen),
         first_seen_at = least(l.first_seen_at, u.first_seen)
       from unnest($2::uuid[], $3::int[], $4::timestamptz[], $5::timestamptz[], $6::timestamptz[]) as u(id, purchases, first_purchase, last_seen, first_seen)
       where l.tenant_id = $1 and l.id = u.id`,
      [
        ctx.brandId,
        ids,
        ids.map((id) => byLearner.get(id)!.purchases),
        ids.map((id) => byLearner.get(id)!.firstPurchase),
        ids.map((id) => byLearner.get(id)!.lastSeen),
        ids.map((id) => byLearner.get(id)!.firstSeen),
      ],
    );
    await Promise.all([lock, update]);
  }

  async thresholds(ctx: RequestContext): Promise<LifecycleThresholds> {
    const manager = await ctx.manager();
    const [row] = await manager.query(`select new_days, lapsed_days from lifecycle_settings where tenant_id = $1`, [ctx.brandId]);
    return row ? { newDays: row.new_days, lapsedDays: row.lapsed_days } : { newDays: DEFAULT_NEW_DAYS, lapsedDays: DEFAULT_LAPSED_DAYS };
  }

  /** Sets the brand's thresholds; stages change with them at once (they are read, not stored). */
  async setThresholds(ctx: RequestContext, input: Partial<LifecycleThresholds>): Promise<LifecycleThresholds> {
    const current = await this.thresholds(ctx);
    const next = { newDays: input.newDays ?? current.newDays, lapsedDays: input.lapsedDays ?? current.lapsedDays };
    if (!Number.isInteger(next.newDays) || next.newDays < 1 || next.newDays > 365) throw badInput('newDays must be 1..365.');
    if (!Number.isInteger(next.lapsedDays) || next.lapsedDays < 1 || next.lapsedDays > 3650) throw badInput('lapsedDays must be 1..3650.');
    if (next.newDays > next.lapsedDays) throw badInput(`newDays (${next.newDays}) may not exceed lapsedDays (${next.lapsedDays}): a new buyer would be lapsed first.`);
    const manager = await ctx.manager();
    await manager.query(
      `insert into lifecycle_settings (tenant_id, new_days, lapsed_days, updated_by) values ($1, $2, $3, $4)
       on conflict (tenant_id) do update set new_days = excluded.new_days, lapsed_days = excluded.lapsed_days,
         updated_by = excluded.updated_by, updated_at = now()`,
      [ctx.brandId, next.newDays, next.lapsedDays, ctx.caller.subject.slice(0, 200)],
    );
    return next;
  }

  /** The brand's learners per stage now. */
  async counts(ctx: RequestContext): Promise<LifecycleCountsView> {
    const manager = await ctx.manager();
    const rows: { stage: LifecycleStageName; n: string }[] = await manager.query(
      `select ${LIFECYCLE_STAGE_SQL} as stage, count(*)::text as n from learners l ${LIFECYCLE_JOIN} where l.tenant_id = $1 group by 1`,
      [ctx.brandId],
    );
    const out: LifecycleCountsView = { prospect: 0, new: 0, active: 0, lapsed: 0 };
    for (const r of rows) out[r.stage.toLowerCase() as keyof LifecycleCountsView] = Number(r.n);
    return out;
  }
}
