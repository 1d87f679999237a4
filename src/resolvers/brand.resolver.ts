import { Arg, Args, ArgsType, Authorized, Ctx, Field, ID, Mutation, Query, Resolver } from 'type-graphql';
import { Brand, BrandKind, BrandProfile, BrandProfileConnection, CreateBrandInput, UpdateBrandInput } from '../schema/brand.types';
import { badInput } from '../errors';
import type { Services } from '../services';
import { ConnectionArgs } from '../schema/connection';
import type { RequestContext } from '../tenancy/context';
import { Role } from '../tenancy/roles';

@ArgsType()
class BrandsArgs extends ConnectionArgs {
  @Field(() => BrandKind, { nullable: true }) kind?: BrandKind | null;
  @Field(() => String, { nullable: true }) search?: string | null;
}

@Resolver(() => Brand)
export class BrandResolver {
  constructor(private readonly services: Services) {}

  @Authorized()
  @Query(() => BrandProfile, { nullable: true, description: 'A brand\'s public profile, by id or slug.' })
  brand(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID, { nullable: true }) id?: string,
    @Arg('slug', () => String, { nullable: true }) slug?: string,
  ) {
    if ((id == null) === (slug == null)) throw badInput('Pass exactly one of id and slug.');
    return this.services.brands.findProfile(ctx, { id, slug });
  }

  @Authorized()
  @Query(() => BrandProfileConnection)
  brands(@Ctx() ctx: RequestContext, @Args() args: BrandsArgs) {
    return this.services.brands.list(ctx, args);
  }

  @Authorized(Role.PLATFORM_ADMIN)
  @Mutation(() => Brand)
  createBrand(@Ctx() ctx: RequestContext, @Arg('input') input: CreateBrandInput) {
    return this.services.brands.create(ctx, input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Brand)
  updateBrand(@Ctx() ctx: RequestContext, @Arg('input') input: UpdateBrandInput) {
    return this.services.brands.updateOwn(ctx, input);
  }
}
