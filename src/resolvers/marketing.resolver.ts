import { Arg, Authorized, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import type { CreativeEntity } from '../entities';
import { Creative } from '../schema/campaign.types';
import { BestCreative, CtrPrediction, Segmentation } from '../schema/marketing.types';
import { DateTimeScalar } from '../schema/scalars';
import type { Services } from '../services';
import type { RequestContext } from '../tenancy/context';
import { Role } from '../tenancy/roles';

/** Click-through prediction, creative selection and learner segments. */
@Resolver()
export class MarketingResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ANALYST)
  @Query(() => [CtrPrediction], {
    description:
      "Click probability of each of the brand's learners (at most 1,000, one model call) for the creative at `at` (default now) in its campaign's time zone; BAD_USER_INPUT names ids that are not the brand's learners.",
  })
  async predictCtr(
    @Ctx() ctx: RequestContext,
    @Arg('creativeId', () => ID) creativeId: string,
    @Arg('learnerIds', () => [ID]) learnerIds: string[],
    @Arg('at', () => DateTimeScalar, { nullable: true }) at?: Date | null,
  ) {
    const { predictions, source } = await this.services.ctr.predict(ctx, creativeId, learnerIds, at ?? undefined);
    return predictions.map((p) => ({ ...p, source }));
  }

  @Authorized(Role.ANALYST)
  @Query(() => BestCreative, {
    description:
      "The creative to show the learner now (or at `at`): none unless the campaign is ACTIVE, started, not ended and inside its daily window in its time zone; otherwise by predicted CTR, with a small exploration share so new creatives are not starved. Says why.",
  })
  async bestCreative(
    @Ctx() ctx: RequestContext,
    @Arg('campaignId', () => ID) campaignId: string,
    @Arg('learnerId', () => ID) learnerId: string,
    @Arg('at', () => DateTimeScalar, { nullable: true }) at?: Date | null,
  ) {
    const best = await this.services.ctr.bestCreative(ctx, campaignId, learnerId, at ?? undefined);
    return { ...best, model: best.version };
  }

  @Authorized(Role.ANALYST)
  @Query(() => Segmentation, { nullable: true, description: "The brand's active learner segmentation, or null before the first SEGMENTATION training." })
  async segmentation(@Ctx() ctx: RequestContext) {
    const found = await this.services.segments.segmentation(ctx);
    if (!found) return null;
    const metrics = found.version.metrics ?? {};
    return {
      model: found.version,
      segments: found.segments,
      k: found.segments.length,
      at: typeof metrics.at === 'string' ? new Date(metrics.at) : null,
    };
  }
}

@Resolver(() => Creative)
export class CreativeCtrResolver {
  constructor(private readonly services: Services) {}

  @FieldResolver(() => Number, {
    nullable: true,
    description:
      "The expected click rate now for the campaign's target segments: the active CTR model's mean over the brand's learners in them (or all learners), else the smoothed observed rate.",
  })
  predictedCtr(@Ctx() ctx: RequestContext, @Root() creative: CreativeEntity) {
    return this.services.ctr.audienceCtr(ctx, creative);
  }
}
