import type { EntityManager } from 'typeorm';
import type { LearnerEntity } from '../entities';
import { LEARNER_COLUMNS, LIFECYCLE_JOIN, LIFECYCLE_STAGE_SQL, learnerFromRow } from '../entities/rows';
import { badInput } from '../errors';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import { newestFirst, paginate, type Page, type PageArgs } from './pagination';

/**
 * Learners by external id, created on first sight, in the caller's
 * transaction. Sorted: concurrent calls wait on each other's new rows in
 * one order, never in opposite orders (a deadlock).
 */
export async function ensureLearners(manager: EntityManager, brandId: string, externalIds: readonly string[]): Promise<Map<string, string>> {
  const unique = [...new Set(externalIds)].sort();
  if (unique.length === 0) return new Map();
  await manager.query(
    `insert into learners (tenant_id, id, external_id)
     select $1, gen_random_uuid(), x from unnest($2::text[]) as x order by x
     on conflict (tenant_id, external_id) do nothing`,
    [brandId, unique],
  );
  const rows: { id: string; external_id: string }[] = await manager.query(
    `select id, external_id from learners where tenant_id = $1 and external_id = any($2::text[])`,
    [brandId, unique],
  );
  return new Map(rows.map((r) => [r.external_id, r.id]));
}

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
