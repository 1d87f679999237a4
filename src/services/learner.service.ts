import type { EntityManager } from 'typeorm';
import type { LearnerEntity } from '../entities';
import { LEARNER_COLUMNS, LIFECYCLE_JOIN, LIFECYCLE_STAGE_SQL, learnerFromRow } from '../entities/rows';
import { badInput } from '../errors';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import { newestFirst, paginate, type Page, type PageArgs } from './pagination';

/**
 * Learners by external id, created on first sight, in the caller's
 * transaction. New ones are inserted in external id order, so concurrent
 * calls wait on each other's new rows in one order, never in opposite orders
 * (a deadlock). Existing ones are read with a key-share lock, the lock the
 * caller's events take through their foreign key anyway: a learner cannot be
 * forgotten between this read and the caller's commit (forgetLearner's
 * FOR UPDATE waits), so no event lands, words and all, on a learner already
 * forgotten. One found forgotten (its external id replaced) is no longer
 * found, and the next round creates a new learner for the id.
 */
export async function ensureLearners(manager: EntityManager, brandId: string, externalIds: readonly string[]): Promise<Map<string, string>> {
  const wanted = [...new Set(externalIds)].sort();
  const found = new Map<string, string>();
  const add = (rows: { id: string; external_id: string }[]) => rows.forEach((r) => found.set(r.external_id, r.id));
  for (let round = 0; round < ENSURE_ROUNDS && found.size < wanted.length; round++) {
    const missing = wanted.filter((x) => !found.has(x));
    // Issued together (one round trip on a pipelining connection), run in order: create the missing, then read
    // them all with the key-share lock (the new ones are this transaction's own and need none, but take it too).
    const [created, existing] = await Promise.all([
      manager.query(
        `insert into learners (tenant_id, id, external_id)
         select $1, gen_random_uuid(), x from unnest($2::text[]) as x order by x
         on conflict (tenant_id, external_id) do nothing
         returning id, external_id`,
        [brandId, missing],
      ),
      manager.query(`select id, external_id from learners where tenant_id = $1 and external_id = any($2::text[]) for key share`, [brandId, missing]),
    ]);
    add(created);
    add(existing);
  }
  if (found.size < wanted.length) throw new Error(`Learners still changing after ${ENSURE_ROUNDS} rounds; try again.`);
  return found;
}

/** Rounds of create-then-find before ensureLearners gives up: a further round follows only a learner forgotten in between. */
const ENSURE_ROUNDS = 5;

/** The caller's learners (created by ingested events). Never visible to another brand. */
export class LearnerService {
  async get(ctx: RequestContext, by: { id?: string | null; externalId?: string | null }): Promise<LearnerEntity | null> {
    if ((by.id == null) === (by.externalId == null)) throw badInput('Pass exactly one of id and externalId.');
    if (by.id != null && !isUuid(by.id)) return null;
    const manager = await ctx.manager();
    const [row] = await manager.query(
      `select ${LEARNER_COLUMNS} from learners l ${LIFECYCLE_JOIN} where l.tenant_id = $1 and ${by.id != null ? 'l.id = $2' : 'l.external_id = $2'}`,
      [ctx.brandId, by.id ?? by.externalId],
    );
    return row ? learnerFromRow(row) : null;
  }

  async list(ctx: RequestContext, args: PageArgs & { segment?: string | null; stage?: string | null }): Promise<Page<LearnerEntity>> {
    const params: unknown[] = [ctx.brandId];
    const where = ['l.tenant_id = $1'];
    if (args.segment != null) {
      params.push(args.segment);
      where.push(`l.segment = $${params.length}`);
    }
    if (args.stage != null) {
      params.push(args.stage);
      where.push(`${LIFECYCLE_STAGE_SQL} = $${params.length}`);
    }
    return paginate(
      await ctx.manager(),
      {
        list: 'learners',
        select: LEARNER_COLUMNS,
        from: `learners l ${LIFECYCLE_JOIN}`,
        where,
        params,
        ...newestFirst('l'),
        map: learnerFromRow,
      },
      args,
    );
  }
}
