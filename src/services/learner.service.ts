import type { LearnerEntity } from '../entities';
import { LEARNER_COLUMNS, LIFECYCLE_JOIN, LIFECYCLE_STAGE_SQL, learnerFromRow } from '../entities/rows';
import { badInput } from '../errors';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import { newestFirst, paginate, type Page, type PageArgs } from './pagination';

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
