import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, Float, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Alliance } from '../schema/alliance.types';
import { BrandProfile } from '../schema/brand.types';
import { Campaign, Creative } from '../schema/campaign.types';
import { ConnectionArgs } from '../schema/connection';
import {
  CreateExperimentInput,
  Experiment,
  ExperimentArm,
  ExperimentConnection,
  ExperimentMetric,
  ExperimentStatus,
} from '../schema/experiment.types';
import { ModelVersion } from '../schema/model.types';
import type { Services } from '../services';
import { CONFIDENCE, primaryMetric, type ArmReport, type ExperimentRow } from '../services/experiment.service';
import { COMPARISON_METHOD } from '../services/experiment-stats';
import type { RequestContext } from '../tenancy/context';
import { Role } from '../tenancy/roles';

@ArgsType()
class ExperimentsArgs extends ConnectionArgs {
  @Field(() => ExperimentStatus, { nullable: true }) status?: ExperimentStatus | null;
}

@Resolver(() => Experiment)
export class ExperimentResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ANALYST)
  @Query(() => ExperimentConnection, { description: "The brand's experiments and those of its alliances' joint campaigns, newest first." })
  experiments(@Ctx() ctx: RequestContext, @Args() args: ExperimentsArgs) {
    return this.services.experiments.list(ctx, args);
  }

  @Authorized(Role.ANALYST)
  @Query(() => Experiment, { nullable: true })
  experiment(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return this.services.experiments.get(ctx, id);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Experiment, {
    description:
      'Starts a RUNNING experiment: learners are split between the arms by a hash of experiment and learner, and every event it affects is recorded with the arm. CONFLICT while another runs for the same model kind or campaign.',
  })
  createExperiment(@Ctx() ctx: RequestContext, @Arg('input') input: CreateExperimentInput) {
    return this.services.experiments.create(ctx, input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Experiment, {
    description:
      "Ends a RUNNING experiment; with promote on a model experiment, activates the winning arm's version. outcome says which arm won, or why none was promoted.",
  })
  endExperiment(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID) id: string,
    @Arg('promote', () => Boolean, { nullable: true, defaultValue: false }) promote: boolean,
  ) {
    return this.services.experiments.end(ctx, id, promote ?? false);
  }

  @FieldResolver(() => ExperimentMetric, {
    description: 'What a promotion is decided by: CONVERSION_RATE for RECOMMENDER experiments, CLICK_RATE for CTR and CREATIVE ones.',
  })
  primaryMetric(@Root() x: ExperimentRow) {
    return primaryMetric(x.kind, x.modelKind);
  }

  @FieldResolver(() => String, { description: 'How treatment arms are compared with the control.' })
  method() {
    return COMPARISON_METHOD;
  }

  @FieldResolver(() => Float, { description: 'Of every interval reported, and 1 − the significance level of every test.' })
  confidence() {
    return CONFIDENCE;
  }

  @FieldResolver(() => [ExperimentArm], { description: 'Arm 0 (the control) first.' })
  arms(@Root() x: ExperimentRow, @Ctx() ctx: RequestContext) {
    return this.services.experiments.report(ctx, x);
  }

  @FieldResolver(() => Campaign, { nullable: true, description: 'The campaign of a CREATIVE experiment.' })
  campaign(@Root() x: ExperimentRow, @Ctx() ctx: RequestContext) {
    return x.campaignId ? this.services.campaigns.get(ctx, x.campaignId) : null;
  }

  @FieldResolver(() => Alliance, { nullable: true, description: "The alliance of a joint campaign's experiment." })
  alliance(@Root() x: ExperimentRow, @Ctx() ctx: RequestContext) {
    return x.allianceId ? this.services.alliances.get(ctx, x.allianceId) : null;
  }

  @FieldResolver(() => BrandProfile, { description: 'The brand that runs it.' })
  owner(@Root() x: ExperimentRow, @Ctx() ctx: RequestContext) {
    return this.services.brands.profiles(ctx).load(x.brandId);
  }
}

@Resolver(() => ExperimentArm)
export class ExperimentArmResolver {
  constructor(private readonly services: Services) {}

  @FieldResolver(() => ModelVersion, { nullable: true, description: 'The version a MODEL arm serves.' })
  modelVersion(@Root() arm: ArmReport, @Ctx() ctx: RequestContext) {
    return arm.modelVersionId ? this.services.models.get(ctx, arm.modelVersionId) : null;
  }

  @FieldResolver(() => Creative, { nullable: true, description: 'The creative a CREATIVE arm shows.' })
  creative(@Root() arm: ArmReport, @Ctx() ctx: RequestContext) {
    return arm.creativeId ? this.services.campaigns.creative(ctx, arm.creativeId) : null;
  }
}
