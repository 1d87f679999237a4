import { LearnerEntity } from '../entities';
import { badInput } from '../errors';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import { paginate, type Page, type PageArgs } from './pagination';

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
    const manager = await ctx.manager();
    const query = manager.createQueryBuilder(LearnerEntity, 'l').where('l.tenant_id = :tenant', { tenant: ctx.brandId });
    if (args.segment != null) query.andWhere('l.segment = :segment', { segment: args.segment });
    return paginate(
      'learners',
      query,
      args,
      [
        { sql: 'l.created_at', cast: 'timestamptz', of: (l) => l.createdAt.toISOString() },
        { sql: 'l.id', cast: 'uuid', of: (l) => l.id },
      ],
      'DESC',
    );
  }
}
