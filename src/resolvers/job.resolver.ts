import { Args, ArgsType, Authorized, Ctx, Field, Query, Resolver } from 'type-graphql';
import { JobState } from '../jobs/job';
import { ConnectionArgs } from '../schema/connection';
import { JobConnection } from '../schema/job.types';
import type { Services } from '../services';
import type { RequestContext } from '../tenancy/context';
import { Role } from '../tenancy/roles';

@ArgsType()
class JobsArgs extends ConnectionArgs {
  @Field(() => JobState, { nullable: true }) state?: JobState | null;
}

@Resolver()
export class JobResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ADMIN)
  @Query(() => JobConnection, { description: "The caller's brand's background jobs, newest first." })
  jobs(@Ctx() ctx: RequestContext, @Args() args: JobsArgs) {
    return this.services.jobs.list(ctx, args);
  }
}
