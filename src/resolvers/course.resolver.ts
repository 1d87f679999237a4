import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { CourseEntity } from '../entities';
import { Alliance } from '../schema/alliance.types';
import { BrandProfile } from '../schema/brand.types';
import { Course, CourseConnection, CourseFilter, CreateCourseInput, UpdateCourseInput } from '../schema/course.types';
import type { Services } from '../services';
import { ConnectionArgs } from '../schema/connection';
import type { RequestContext } from '../tenancy/context';
import { Role } from '../tenancy/roles';

@ArgsType()
class CoursesArgs extends ConnectionArgs {
  @Field(() => CourseFilter, { nullable: true }) filter?: CourseFilter | null;
}

@Resolver(() => Course)
export class CourseResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ANALYST)
  @Query(() => CourseConnection)
  courses(@Ctx() ctx: RequestContext, @Args() args: CoursesArgs) {
    return this.services.courses.list(ctx, args);
  }

  @Authorized(Role.ANALYST)
  @Query(() => Course, { nullable: true })
  course(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return this.services.courses.get(ctx, id);
  }

  @Authorized(Role.EDITOR)
  @Mutation(() => Course)
  createCourse(@Ctx() ctx: RequestContext, @Arg('input') input: CreateCourseInput) {
    return this.services.courses.create(ctx, input);
  }

  @Authorized(Role.EDITOR)
  @Mutation(() => Course)
  updateCourse(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('input') input: UpdateCourseInput) {
    return this.services.courses.update(ctx, id, input);
  }

  @FieldResolver(() => Alliance, { nullable: true, description: "Set for a joint course; null where the caller cannot see the alliance." })
  alliance(@Root() course: CourseEntity, @Ctx() ctx: RequestContext) {
    return course.allianceId ? this.services.alliances.get(ctx, course.allianceId) : null;
  }

  @FieldResolver(() => BrandProfile)
  owner(@Root() course: CourseEntity, @Ctx() ctx: RequestContext) {
    return this.services.brands.profiles(ctx).load(course.tenantId);
  }
}
