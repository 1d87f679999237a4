import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import type { AgreementEntity } from '../entities';
import { Agreement, AgreementAcceptance, Alliance, ProposeAgreementInput, RevenueShare } from '../schema/alliance.types';
import { BrandProfile } from '../schema/brand.types';
import { services } from '../services';
import type { Acceptance } from '../services/agreement.service';
import type { Share } from '../services/shares';
import type { RequestContext } from '../tenancy/context';
import { Role } from '../tenancy/roles';

@Resolver(() => Agreement)
export class AgreementResolver {
  @Authorized(Role.ADMIN)
  @Mutation(() => Agreement)
  proposeAgreement(@Ctx() ctx: RequestContext, @Arg('input') input: ProposeAgreementInput) {
    return services.agreements.propose(ctx, input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Agreement)
  acceptAgreement(@Ctx() ctx: RequestContext, @Arg('agreementId', () => ID) agreementId: string) {
    return services.agreements.accept(ctx, agreementId);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Agreement)
  rejectAgreement(@Ctx() ctx: RequestContext, @Arg('agreementId', () => ID) agreementId: string) {
    return services.agreements.reject(ctx, agreementId);
  }

  @FieldResolver(() => Alliance)
  alliance(@Root() agreement: AgreementEntity, @Ctx() ctx: RequestContext) {
    return services.alliances.get(ctx, agreement.allianceId);
  }

  @FieldResolver(() => [RevenueShare])
  shares(@Root() agreement: AgreementEntity, @Ctx() ctx: RequestContext) {
    return services.agreements.shares(ctx).load(agreement.id);
  }

  @FieldResolver(() => [AgreementAcceptance])
  acceptances(@Root() agreement: AgreementEntity, @Ctx() ctx: RequestContext) {
    return services.agreements.acceptancesOf(ctx).load(agreement.id);
  }
}

@Resolver(() => RevenueShare)
export class RevenueShareResolver {
  @FieldResolver(() => BrandProfile)
  brand(@Root() share: Share, @Ctx() ctx: RequestContext) {
    return services.brands.profiles(ctx).load(share.brandId);
  }
}

@Resolver(() => AgreementAcceptance)
export class AgreementAcceptanceResolver {
  @FieldResolver(() => BrandProfile)
  brand(@Root() acceptance: Acceptance, @Ctx() ctx: RequestContext) {
    return services.brands.profiles(ctx).load(acceptance.brandId);
  }
}
