import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { SettlementEntity, SettlementLineEntity } from '../entities';
import { Agreement, Alliance } from '../schema/alliance.types';
import { BrandProfile } from '../schema/brand.types';
import { ConnectionArgs } from '../schema/connection';
import { RunSettlementInput, Settlement, SettlementConnection, SettlementLine, SettlementLoyaltyLine } from '../schema/settlement.types';
import type { Services } from '../services';
import type { RequestContext } from '../tenancy/context';
import { Role } from '../tenancy/roles';

@ArgsType()
class SettlementsArgs extends ConnectionArgs {
  @Field(() => ID) allianceId!: string;
}

@Resolver(() => Settlement)
export class SettlementResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ANALYST)
  @Query(() => SettlementConnection, {
    description: "An alliance's settlements, newest first: all of them for its ACTIVE members, those it has lines in for a brand that left.",
  })
  settlements(@Ctx() ctx: RequestContext, @Args() { allianceId, ...page }: SettlementsArgs) {
    return this.services.settlements.list(ctx, allianceId, page);
  }

  @Authorized(Role.ANALYST)
  @Query(() => Settlement, { nullable: true })
  settlement(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return this.services.settlements.get(ctx, id);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Settlement, { description: 'Creates or recomputes the DRAFT settlement of an alliance for one currency and period.' })
  runSettlement(@Ctx() ctx: RequestContext, @Arg('input') input: RunSettlementInput) {
    return this.services.settlements.run(ctx, input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Settlement, { description: "The alliance LEAD finalizes a DRAFT whose period has ended; FINALIZED never changes." })
  finalizeSettlement(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return this.services.settlements.finalize(ctx, id);
  }

  @FieldResolver(() => Alliance)
  alliance(@Root() settlement: SettlementEntity, @Ctx() ctx: RequestContext) {
    return this.services.alliances.ofSettlement(ctx, settlement.allianceId);
  }

  @FieldResolver(() => [SettlementLoyaltyLine], { description: 'Loyalty redemptions between members, netted per pair of brands; by payer, then payee.' })
  async loyaltyLines(@Root() settlement: SettlementEntity, @Ctx() ctx: RequestContext) {
    const money = (minor: bigint) => ({ amountMinor: Number(minor), currency: settlement.currency });
    return (await this.services.settlements.loyaltyLines(ctx, settlement.id)).map((l) => ({
      payerBrandId: l.payerBrandId,
      payeeBrandId: l.payeeBrandId,
      points: Number(l.points),
      gross: money(l.grossMinor),
      offsetPoints: Number(l.offsetPoints),
      offset: money(l.offsetMinor),
      amount: money(l.amountMinor),
    }));
  }

  @FieldResolver(() => [SettlementLine], { description: 'By agreement version, then brand id; the amounts sum to `net` exactly.' })
  lines(@Root() settlement: SettlementEntity, @Ctx() ctx: RequestContext) {
    return this.services.settlements.lines(ctx).load(settlement.id);
  }
}

@Resolver(() => SettlementLine)
export class SettlementLineResolver {
  constructor(private readonly services: Services) {}

  @FieldResolver(() => BrandProfile)
  brand(@Root() line: SettlementLineEntity, @Ctx() ctx: RequestContext) {
    return this.services.brands.profiles(ctx).load(line.brandId);
  }

  @FieldResolver(() => Agreement, { nullable: true, description: "The agreement version; null for a brand that has left the alliance." })
  agreement(@Root() line: SettlementLineEntity, @Ctx() ctx: RequestContext) {
    return this.services.agreements.get(ctx, line.agreementId);
  }
}
