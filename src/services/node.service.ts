import type { EntityManager } from 'typeorm';
import { BrandEntity } from '../entities';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import type { AgreementService } from './agreement.service';
import type { AllianceService } from './alliance.service';
import type { CampaignService } from './campaign.service';
import type { CourseService } from './course.service';
import type { LearnerService } from './learner.service';
import type { ModelService } from './model.service';
import type { SettlementService } from './settlement.service';

type Finder = (ctx: RequestContext, id: string) => Promise<object | null>;

/**
 * Resolves `node(id)`. Ids are plain UUIDs, so the type is found by looking
 * the id up in each table that holds Nodes, under RLS and the same
 * visibility rules as the typed queries: an id the caller may not read finds
 * nothing, exactly like an unknown id.
 */
export class NodeService {
  private readonly finders: Record<string, Finder>;

  constructor(
    courses: CourseService,
    learners: LearnerService,
    alliances: AllianceService,
    agreements: AgreementService,
    campaigns: CampaignService,
    settlements: SettlementService,
    models: ModelService,
  ) {
    this.finders = {
      course: (ctx, id) => courses.get(ctx, id),
      learner: (ctx, id) => learners.get(ctx, { id }),
      alliance: (ctx, id) => alliances.get(ctx, id),
      agreement: (ctx, id) => agreements.get(ctx, id),
      campaign: (ctx, id) => campaigns.get(ctx, id),
      creative: (ctx, id) => campaigns.creative(ctx, id),
      settlement: (ctx, id) => settlements.get(ctx, id),
      model: (ctx, id) => models.get(ctx, id),
    };
  }

  async find(ctx: RequestContext, id: string): Promise<object | null> {
    if (!isUuid(id)) return null;
    const manager: EntityManager = await ctx.manager();
    if (id === ctx.brandId) return manager.findOneBy(BrandEntity, { id });
    const [hit] = await manager.query(
      `select 'course' as kind from courses where id = $2
       union all select 'learner' from learners where tenant_id = $1 and id = $2
       union all select 'alliance' from alliances where id = $2
       union all select 'agreement' from agreements where id = $2
       union all select 'campaign' from campaigns where id = $2
       union all select 'creative' from creatives where id = $2
       union all select 'settlement' from settlements where id = $2
       union all select 'model' from model_versions where tenant_id = $1 and id = $2
       limit 1`,
      [ctx.brandId, id],
    );
    return hit ? this.finders[hit.kind](ctx, id) : null;
  }
}
