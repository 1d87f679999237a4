import { Arg, Authorized, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { Node } from '../schema/common.types';
import { Brand, PrincipalType } from '../schema/brand.types';
import type { Services } from '../services';
import type { RequestContext } from '../tenancy/context';
import type { Principal } from '../tenancy/principal';

@Resolver(() => PrincipalType)
export class MeResolver {
  constructor(private readonly services: Services) {}

  @Authorized()
  @Query(() => PrincipalType, { description: 'The caller: its subject, brand and roles.' })
  me(@Ctx() ctx: RequestContext): Principal {
    return ctx.caller;
  }

  @FieldResolver(() => Brand, { nullable: true })
  brand(@Root() principal: Principal, @Ctx() ctx: RequestContext) {
    return principal.brandId ? this.services.brands.own(ctx) : null;
  }

  @Authorized()
  @Query(() => Node, { nullable: true })
  node(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext) {
    return ctx.caller.brandId ? this.services.nodes.find(ctx, id) : null;
  }
}
