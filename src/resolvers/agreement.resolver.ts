import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import type { AgreementEntity } from '../entities';
import { Agreement, AgreementAcceptance, Alliance, ProposeAgreementInput, RevenueShare } from '../schema/alliance.types';
import { BrandProfile } from '../schema/brand.types';
import type { Services } from '../services';
import type { Acceptance } from '../services/agreement.service';
import type { Share } from '../services/shares';
import type { RequestContext } from '../tenancy/context';
import { Role } from '../tenancy/roles';

@Resolver(() => Agreement)
export class AgreementResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ADMIN)
  @Mutation(() => Agreement)
  proposeAgreement(@Ctx() ctx: RequestContext, @Arg('input') input: ProposeAgreementInput) {
    return this.services.agreements.propose(ctx, input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Agreement)
  acceptAgreement(@Ctx() ctx: RequestContext, @Arg('agreementId', () => ID) agreementId: string) {
    return this.services.agreements.accept(ctx, agreementId);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Agreement)
  rejectAgreement(@Ctx() ctx: RequestContext, @Arg('agreementId', () => ID) agreementId: string) {
    return this.services.agreements.reject(ctx, agreementId);
  }

  @FieldResolver(() => Alliance)
  alliance(@Root() agreement: AgreementEntity, @Ctx() ctx: RequestContext) {
    return this.services.alliances.get(ctx, agreement.allianceId);
  }

  @FieldResolver(() => [RevenueShare])
  shares(@Root() agreement: AgreementEntity, @Ctx() ctx: RequestContext) {
    return this.services.agreements.shares(ctx).load(agreement.id);
  }

  @FieldResolver(() => [AgreementAcceptance])
  acceptances(@Root() agreement: AgreementEntity, @Ctx() ctx: RequestContext) {
    return this.services.agreements.acceptancesOf(ctx).load(agreement.id);
  }
}

@Resolver(() => RevenueShare)
export class RevenueShareResolver {
  constructor(private readonly services: Services) {}

  @FieldResolver(() => BrandProfile)
  brand(@Root() share: Share, @Ctx() ctx: RequestContext) {
    return this.services.brands.profiles(ctx).load(share.brandId);
  }
}

@Resolver(() => AgreementAcceptance)
export class AgreementAcceptanceResolver {
  constructor(private readonly services: Services) {}

  @FieldResolver(() => BrandProfile)
  brand(@Root() acceptance: Acceptance, @Ctx() ctx: RequestContext) {
    return this.services.brands.profiles(ctx).load(acceptance.brandId);
  }
}
