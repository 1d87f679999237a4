import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { CampaignEntity } from '../entities';
import { Alliance } from '../schema/alliance.types';
import { BrandProfile } from '../schema/brand.types';
import { Campaign, CampaignConnection, CampaignMetrics, CampaignStatus, CreateCampaignInput, Creative, CreativeInput } from '../schema/campaign.types';
import { MoneyInput } from '../schema/common.types';
import { ConnectionArgs } from '../schema/connection';
import { Course } from '../schema/course.types';
import { DateTimeScalar } from '../schema/scalars';
import type { Services } from '../services';
import type { RequestContext } from '../tenancy/context';
import { Role } from '../tenancy/roles';

@ArgsType()
class CampaignsArgs extends ConnectionArgs {
  @Field(() => ID, { nullable: true }) allianceId?: string | null;
  @Field(() => CampaignStatus, { nullable: true }) status?: CampaignStatus | null;
}

@Resolver(() => Campaign)
export class CampaignResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ANALYST)
  @Query(() => CampaignConnection, { description: "The caller's campaigns and the joint campaigns of its alliances, newest first." })
  campaigns(@Ctx() ctx: RequestContext, @Args() args: CampaignsArgs) {
    return this.services.campaigns.list(ctx, args);
  }

  @Authorized(Role.ANALYST)
  @Query(() => Campaign, { nullable: true })
  campaign(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return this.services.campaigns.get(ctx, id);
  }

  @Authorized(Role.EDITOR)
  @Mutation(() => Campaign)
  createCampaign(@Ctx() ctx: RequestContext, @Arg('input') input: CreateCampaignInput) {
    return this.services.campaigns.create(ctx, input);
  }

  @Authorized(Role.EDITOR)
  @Mutation(() => Creative)
  addCreative(@Ctx() ctx: RequestContext, @Arg('campaignId', () => ID) campaignId: string, @Arg('input') input: CreativeInput) {
    return this.services.campaigns.addCreative(ctx, campaignId, input);
  }

  @Authorized(Role.EDITOR)
  @Mutation(() => Campaign)
  setCampaignStatus(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID) id: string,
    @Arg('status', () => CampaignStatus) status: CampaignStatus,
  ) {
    return this.services.campaigns.setStatus(ctx, id, status);
  }

  @Authorized(Role.EDITOR)
  @Mutation(() => Campaign)
  recordCampaignSpend(
    @Ctx() ctx: RequestContext,
    @Arg('campaignId', () => ID) campaignId: string,
    @Arg('amount', () => MoneyInput) amount: MoneyInput,
    @Arg('occurredAt', () => DateTimeScalar) occurredAt: Date,
  ) {
    return this.services.campaigns.recordSpend(ctx, campaignId, amount, occurredAt);
  }

  @FieldResolver(() => BrandProfile)
  owner(@Root() campaign: CampaignEntity, @Ctx() ctx: RequestContext) {
    return this.services.brands.profiles(ctx).load(campaign.tenantId);
  }

  @FieldResolver(() => Alliance, { nullable: true })
  alliance(@Root() campaign: CampaignEntity, @Ctx() ctx: RequestContext) {
    return campaign.allianceId ? this.services.alliances.get(ctx, campaign.allianceId) : null;
  }

  @FieldResolver(() => [Course])
  courses(@Root() campaign: CampaignEntity, @Ctx() ctx: RequestContext) {
    return this.services.campaigns.promotedCourses(ctx, campaign);
  }

  @FieldResolver(() => CampaignMetrics)
  metrics(@Root() campaign: CampaignEntity, @Ctx() ctx: RequestContext) {
    return this.services.metrics.campaign(ctx).load(campaign.id);
  }

  @FieldResolver(() => [Creative])
  creatives(@Root() campaign: CampaignEntity, @Ctx() ctx: RequestContext) {
    return this.services.campaigns.creatives(ctx).load(campaign.id);
  }
}
