import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { ApiKey, ApiKeyCreated } from '../schema/brand.types';
import type { Services } from '../services';
import type { RequestContext } from '../tenancy/context';
import { Role } from '../tenancy/roles';

@Resolver()
export class ApiKeyResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ADMIN)
  @Query(() => [ApiKey], { description: "The caller's brand's API keys, newest first, revoked ones included." })
  apiKeys(@Ctx() ctx: RequestContext) {
    return this.services.apiKeys.list(ctx);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ApiKeyCreated)
  async createApiKey(
    @Ctx() ctx: RequestContext,
    @Arg('name') name: string,
    @Arg('roles', () => [Role]) roles: Role[],
  ): Promise<ApiKeyCreated> {
    const { key, secret } = await this.services.apiKeys.create(ctx, name, roles);
    return { id: key.id, name: key.name, roles: key.roles as Role[], secret };
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean)
  revokeApiKey(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return this.services.apiKeys.revoke(ctx, id);
  }
}
