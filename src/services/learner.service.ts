import { LearnerEntity } from '../entities';
import { LEARNER_COLUMNS, learnerFromRow } from '../entities/rows';
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
    const where = by.id != null ? { id: by.id } : { externalId: by.externalId as string };
    return manager.findOneBy(LearnerEntity, { tenantId: ctx.brandId, ...where });
  }

  async list(ctx: RequestContext, args: PageArgs & { segment?: string | null }): Promise<Page<LearnerEntity>> {
    const params: unknown[] = [ctx.brandId];
    const where = ['l.tenant_id = $1'];
    if (args.segment != null) {
      params.push(args.segment);
      where.push(`l.segment = $${params.length}`);
    }
    return paginate(
      await ctx.manager(),
      {
        list: 'learners',
        select: LEARNER_COLUMNS,
        from: 'learners l',
        where,
        params,
        ...newestFirst('l'),
        map: learnerFromRow,
      },
      args,
    );
  }
}
