import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { AllianceEntity, AllianceMemberEntity, AuditEntryEntity } from '../entities';
import { Agreement, Alliance, AllianceConnection, AllianceMember, AllianceStatus, AuditEntry, AuditEntryConnection, CreateAllianceInput, PartnerSuggestion } from '../schema/alliance.types';
import { BrandProfile } from '../schema/brand.types';
import { CampaignConnection } from '../schema/campaign.types';
import { ConnectionArgs } from '../schema/connection';
import { CourseConnection } from '../schema/course.types';
import type { Services } from '../services';
import type { Suggestion } from '../services/partner.service';
import type { RequestContext } from '../tenancy/context';
import { Role } from '../tenancy/roles';

@ArgsType()
class AlliancesArgs extends ConnectionArgs {
  @Field(() => AllianceStatus, { nullable: true }) status?: AllianceStatus | null;
}

@Resolver(() => Alliance)
export class AllianceResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ANALYST)
  @Query(() => AllianceConnection, { description: 'Alliances the caller is an ACTIVE member of or invited to.' })
  alliances(@Ctx() ctx: RequestContext, @Args() args: AlliancesArgs) {
    return this.services.alliances.list(ctx, args);
  }

  @Authorized(Role.ANALYST)
  @Query(() => Alliance, { nullable: true })
  alliance(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return this.services.alliances.get(ctx, id);
  }

  @Authorized(Role.ANALYST)
  @Query(() => [PartnerSuggestion])
  partnerSuggestions(@Ctx() ctx: RequestContext, @Arg('first', () => Int, { nullable: true, defaultValue: 10 }) first: number | null) {
    return this.services.partners.suggestions(ctx, first);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Alliance)
  createAlliance(@Ctx() ctx: RequestContext, @Arg('input') input: CreateAllianceInput) {
    return this.services.alliances.create(ctx, input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Alliance)
  inviteToAlliance(@Ctx() ctx: RequestContext, @Arg('allianceId', () => ID) allianceId: string, @Arg('brandId', () => ID) brandId: string) {
    return this.services.alliances.invite(ctx, allianceId, brandId);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Alliance)
  respondToInvitation(@Ctx() ctx: RequestContext, @Arg('allianceId', () => ID) allianceId: string, @Arg('accept') accept: boolean) {
    return this.services.alliances.respond(ctx, allianceId, accept);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Alliance)
  leaveAlliance(@Ctx() ctx: RequestContext, @Arg('allianceId', () => ID) allianceId: string) {
    return this.services.alliances.leave(ctx, allianceId);
  }

  @FieldResolver(() => [AllianceMember])
  async members(@Root() alliance: AllianceEntity, @Ctx() ctx: RequestContext) {
    return alliance.membersSnapshot ?? this.services.alliances.members(ctx).load(alliance.id);
  }

  @FieldResolver(() => Agreement, { nullable: true })
  async activeAgreement(@Root() alliance: AllianceEntity, @Ctx() ctx: RequestContext) {
    const versions = await this.agreements(alliance, ctx);
    return versions.find((a) => a.status === 'ACTIVE') ?? null;
  }

  @FieldResolver(() => [Agreement], { description: 'Every version, newest first; empty for brands that are not ACTIVE members.' })
  async agreements(@Root() alliance: AllianceEntity, @Ctx() ctx: RequestContext) {
    return alliance.membersSnapshot ? [] : this.services.agreements.versions(ctx).load(alliance.id);
  }

  @FieldResolver(() => CourseConnection, { description: 'The joint courses; empty for brands that are not ACTIVE members.' })
  courses(@Root() alliance: AllianceEntity, @Ctx() ctx: RequestContext, @Args() args: ConnectionArgs) {
    return this.services.courses.list(ctx, { ...args, filter: { allianceId: alliance.id } });
  }

  @FieldResolver(() => CampaignConnection, { description: 'The joint campaigns; empty for brands that are not ACTIVE members.' })
  campaigns(@Root() alliance: AllianceEntity, @Ctx() ctx: RequestContext, @Args() args: ConnectionArgs) {
    return this.services.campaigns.list(ctx, { ...args, allianceId: alliance.id });
  }

  @FieldResolver(() => AuditEntryConnection, {
    description: 'Membership and agreement changes, newest first; empty for brands that are not ACTIVE members.',
  })
  auditLog(@Root() alliance: AllianceEntity, @Ctx() ctx: RequestContext, @Args() args: ConnectionArgs) {
    return this.services.audit.list(ctx, alliance.id, args);
  }
}

@Resolver(() => AllianceMember)
export class AllianceMemberResolver {
  constructor(private readonly services: Services) {}

  @FieldResolver(() => BrandProfile)
  brand(@Root() member: AllianceMemberEntity, @Ctx() ctx: RequestContext) {
    return this.services.brands.profiles(ctx).load(member.brandId);
  }
}

@Resolver(() => AuditEntry)
export class AuditEntryResolver {
  constructor(private readonly services: Services) {}

  @FieldResolver(() => BrandProfile, { description: 'The brand that made the change.' })
  actor(@Root() entry: AuditEntryEntity, @Ctx() ctx: RequestContext) {
    return this.services.brands.profiles(ctx).load(entry.actorBrandId);
  }
}

@Resolver(() => PartnerSuggestion)
export class PartnerSuggestionResolver {
  constructor(private readonly services: Services) {}

  @FieldResolver(() => BrandProfile)
  brand(@Root() suggestion: Suggestion) {
    return suggestion.brand;
  }
}
