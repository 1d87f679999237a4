import { Arg, Args, ArgsType, Authorized, Ctx, Field, ID, Query, Resolver } from 'type-graphql';
import { Learner, LearnerConnection } from '../schema/learner.types';
import type { Services } from '../services';
import { ConnectionArgs } from '../schema/connection';
import type { RequestContext } from '../tenancy/context';
import { Role } from '../tenancy/roles';

@ArgsType()
class LearnersArgs extends ConnectionArgs {
  @Field(() => String, { nullable: true }) segment?: string | null;
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
}
