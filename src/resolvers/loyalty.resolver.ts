import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { LearnerEntity } from '../entities';
import { Learner } from '../schema/learner.types';
import { ConnectionArgs } from '../schema/connection';
import {
  AdjustLoyaltyPointsInput,
  CreateLoyaltyProgramInput,
  LoyaltyBrandFigures,
  LoyaltyEnrollment,
  LoyaltyEntryConnection,
  LoyaltyMember,
  LoyaltyProgram,
  LoyaltyRedemption,
  RedeemLoyaltyPointsInput,
} from '../schema/loyalty.types';
import type { Services } from '../services';
import type { RequestContext } from '../tenancy/context';
import { Role } from '../tenancy/roles';

@Resolver(() => LoyaltyProgram)
export class LoyaltyResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ADMIN)
  @Mutation(() => LoyaltyProgram, {
    description: "Proposes a version of the alliance's loyalty programme (its LEAD's OWNER or ADMIN); ACTIVE once every ACTIVE member has accepted it.",
  })
  createLoyaltyProgram(@Ctx() ctx: RequestContext, @Arg('input', () => CreateLoyaltyProgramInput) input: CreateLoyaltyProgramInput) {
    return this.services.loyalty.create(ctx, input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => LoyaltyProgram, { description: 'Accepts a PROPOSED programme version for your brand, saying whether your own courses earn too.' })
  acceptLoyaltyProgram(
    @Ctx() ctx: RequestContext,
    @Arg('programId', () => ID) programId: string,
    @Arg('ownCourses', () => Boolean, { defaultValue: false }) ownCourses: boolean,
  ) {
    return this.services.loyalty.accept(ctx, programId, ownCourses);
  }

  @FieldResolver(() => [LoyaltyBrandFigures], { description: 'Per member brand: points issued, redeemed, expired, reversed, outstanding (the liability), and memberships.' })
  figures(@Ctx() ctx: RequestContext, @Root() program: LoyaltyProgram) {
    return this.services.loyalty.figures(ctx, program);
  }

  @Authorized(Role.ANALYST)
  @Query(() => LoyaltyProgram, { nullable: true, description: "The alliance's ACTIVE loyalty programme, or else its open proposal (ACTIVE members)." })
  loyaltyProgram(@Ctx() ctx: RequestContext, @Arg('allianceId', () => ID) allianceId: string) {
    return this.services.loyalty.ofAlliance(ctx, allianceId);
  }

  @Authorized(Role.EDITOR)
  @Mutation(() => LoyaltyEnrollment, { description: "Makes one of your learners a member of the alliance's programme; the answer holds its member code." })
  enrollLoyaltyMember(
    @Ctx() ctx: RequestContext,
    @Arg('learnerId', () => ID) learnerId: string,
    @Arg('allianceId', () => ID, { nullable: true, description: 'Needed only when your brand has ACTIVE programmes in several alliances.' }) allianceId?: string | null,
  ) {
    return this.services.loyalty.enroll(ctx, learnerId, allianceId ?? null);
  }

  @Authorized(Role.EDITOR)
  @Mutation(() => LoyaltyMember, { description: 'Links one of your learners to the membership whose code the learner gave you. A wrong code answers like an unknown one.' })
  linkLoyaltyMember(
    @Ctx() ctx: RequestContext,
    @Arg('learnerId', () => ID) learnerId: string,
    @Arg('code') code: string,
    @Arg('allianceId', () => ID, { nullable: true }) allianceId?: string | null,
  ) {
    return this.services.loyalty.linkByCode(ctx, learnerId, code, allianceId ?? null);
  }

  @Authorized(Role.EDITOR)
  @Mutation(() => LoyaltyEnrollment, { description: "A new member code for your learner's membership; the old code stops working at once." })
  rotateLoyaltyCode(@Ctx() ctx: RequestContext, @Arg('learnerId', () => ID) learnerId: string, @Arg('allianceId', () => ID, { nullable: true }) allianceId?: string | null) {
    return this.services.loyalty.rotateCode(ctx, learnerId, allianceId ?? null);
  }

  @Authorized(Role.EDITOR)
  @Mutation(() => LoyaltyRedemption, { description: "Spends your learner's points as a discount at your brand, oldest points first; never more than the balance." })
  redeemLoyaltyPoints(@Ctx() ctx: RequestContext, @Arg('input', () => RedeemLoyaltyPointsInput) input: RedeemLoyaltyPointsInput) {
    return this.services.loyalty.redeem(ctx, input);
  }
}

@Resolver(() => LoyaltyRedemption)
export class LoyaltyRedemptionResolver {
  constructor(private readonly services: Services) {}

  @FieldResolver(() => LoyaltyMember, { description: 'The membership after the redemption.' })
  member(@Ctx() ctx: RequestContext, @Root() redemption: LoyaltyRedemption) {
    return this.services.loyalty.member(ctx, redemption.learnerId, redemption.allianceId);
  }
}

@Resolver(() => LoyaltyMember)
export class LoyaltyMemberResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ADMIN)
  @Mutation(() => LoyaltyMember, { description: "Adds or takes points by hand (OWNER, ADMIN), with a reason kept in the alliance's audit log." })
  adjustLoyaltyPoints(@Ctx() ctx: RequestContext, @Arg('input', () => AdjustLoyaltyPointsInput) input: AdjustLoyaltyPointsInput) {
    return this.services.loyalty.adjust(ctx, input);
  }

  @FieldResolver(() => LoyaltyEntryConnection, { description: "The membership's ledger, newest first, at every brand it is linked to." })
  history(@Ctx() ctx: RequestContext, @Root() member: LoyaltyMember, @Args() args: ConnectionArgs) {
    return this.services.loyalty.history(ctx, member.id, args);
  }
}

@Resolver(() => Learner)
export class LearnerLoyaltyResolver {
  constructor(private readonly services: Services) {}

  @FieldResolver(() => [LoyaltyMember], { description: "The learner's loyalty memberships, one per alliance, with balances." })
  loyalty(@Ctx() ctx: RequestContext, @Root() learner: LearnerEntity) {
    return this.services.loyalty.members(ctx, learner.id);
  }
}
