import { Arg, Args, ArgsType, Authorized, Ctx, Field, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { Learner, LearnerConnection } from '../schema/learner.types';
import { LifecycleSettings, LifecycleStage } from '../schema/lifecycle.types';
import type { Services } from '../services';
import { ConnectionArgs } from '../schema/connection';
import type { RequestContext } from '../tenancy/context';
import { Role } from '../tenancy/roles';

@ArgsType()
class LearnersArgs extends ConnectionArgs {
  @Field(() => String, { nullable: true }) segment?: string | null;
  @Field(() => LifecycleStage, { nullable: true, description: 'Only learners in this stage now.' }) stage?: LifecycleStage | null;
}

@Resolver(() => Learner)
export class LearnerResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ANALYST)
  @Query(() => LearnerConnection)
  learners(@Ctx() ctx: RequestContext, @Args() args: LearnersArgs) {
    return this.services.learners.list(ctx, args);
  }

  @Authorized(Role.ANALYST)
  @Query(() => Learner, { nullable: true })
  learner(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID, { nullable: true }) id?: string,
    @Arg('externalId', () => String, { nullable: true }) externalId?: string,
  ) {
    return this.services.learners.get(ctx, { id, externalId });
  }

  @Authorized(Role.ANALYST)
  @Query(() => LifecycleSettings, { description: "The brand's lifecycle thresholds." })
  lifecycleSettings(@Ctx() ctx: RequestContext) {
    return this.services.lifecycle.thresholds(ctx);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => LifecycleSettings, { description: 'Sets the lifecycle thresholds (either or both); every stage is read with them from then on.' })
  setLifecycleThresholds(
    @Ctx() ctx: RequestContext,
    @Arg('newDays', () => Int, { nullable: true, description: '1..365, at most lapsedDays.' }) newDays?: number | null,
    @Arg('lapsedDays', () => Int, { nullable: true, description: '1..3650.' }) lapsedDays?: number | null,
  ) {
    return this.services.lifecycle.setThresholds(ctx, { newDays: newDays ?? undefined, lapsedDays: lapsedDays ?? undefined });
  }
}
