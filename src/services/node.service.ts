import { BrandEntity, CourseEntity, LearnerEntity } from '../entities';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';

/**
 * Resolves `node(id)`. Ids are plain UUIDs, so the type is found by looking
 * the id up, under RLS, in each table that holds Nodes: an id of another
 * brand's object finds nothing, exactly like an unknown id.
 */
export class NodeService {
  async find(ctx: RequestContext, id: string): Promise<object | null> {
    if (!isUuid(id)) return null;
    if (id === ctx.caller.brandId) {
      return (await ctx.manager()).findOneBy(BrandEntity, { id });
    }
    const brandId = ctx.brandId;
    const manager = await ctx.manager();
    const [hit] = await manager.query(
      `select 'course' as kind from courses where tenant_id = $1 and id = $2
       union all
       select 'learner' from learners where tenant_id = $1 and id = $2
       limit 1`,
      [brandId, id],
    );
    if (!hit) return null;
    const entity = hit.kind === 'course' ? CourseEntity : LearnerEntity;
    return manager.findOneBy<object>(entity, { tenantId: brandId, id });
  }
}
