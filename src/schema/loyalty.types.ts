import { ArrayMaxSize, IsBoolean, Length, Matches, Max, Min } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { LoyaltyEntryKind, LoyaltyProgramStatus } from '../entities/enums';
import { Money } from './common.types';
import { connectionTypes } from './connection';
import { DateTimeScalar, SafeIntScalar } from './scalars';
import { IsNotBlank } from './validators';

export { LoyaltyEntryKind, LoyaltyProgramStatus };

registerEnumType(LoyaltyProgramStatus, {
  name: 'LoyaltyProgramStatus',
  description: 'PROPOSED until every ACTIVE member accepts; then ACTIVE, until a later version replaces it (SUPERSEDED).',
});
registerEnumType(LoyaltyEntryKind, { name: 'LoyaltyEntryKind', description: 'What a ledger entry records.' });

const CURRENCY = /^[A-Z]{3}$/;

@InputType({ description: 'Points earned per whole unit of a currency (per 1.00 USD, per 1 JPY) of net purchase.' })
export class LoyaltyEarnRateInput {
  @Field() @Matches(CURRENCY, { message: 'currency must be an ISO 4217 code such as USD' }) currency!: string;
  @Field(() => Int) @Min(0) @Max(10_000) points!: number;
}

@InputType({ description: 'What one point is worth when redeemed, in minor units of a currency (1: a cent per point).' })
export class LoyaltyRedemptionValueInput {
  @Field() @Matches(CURRENCY, { message: 'currency must be an ISO 4217 code such as USD' }) currency!: string;
  @Field(() => Int) @Min(1) @Max(1_000_000) minorPerPoint!: number;
}

@InputType()
export class LoyaltyTierInput {
  @Field() @Length(1, 50) @IsNotBlank() name!: string;
  @Field(() => Int, { description: 'Points earned in the last 12 months to hold the tier.' }) @Min(1) @Max(1_000_000_000) minPoints!: number;
  @Field(() => Int, { description: 'Discount the tier unlocks, in basis points (500: 5%).' }) @Min(0) @Max(10_000) discountBasisPoints!: number;
  @Field({ defaultValue: false }) @IsBoolean() earlyAccess!: boolean;
}

@InputType()
export class CreateLoyaltyProgramInput {
  @Field(() => ID) allianceId!: string;
  @Field(() => [LoyaltyEarnRateInput], { description: 'Earning on purchases of joint courses (and of a member\'s own courses, where it opts in), per currency; a currency not listed earns nothing.' })
  @ArrayMaxSize(50)
  earnRates!: LoyaltyEarnRateInput[];
  @Field(() => Int, { defaultValue: 0, description: 'Points for a COMPLETE event of a course that earns.' }) @Min(0) @Max(100_000) pointsPerComplete!: number;
  @Field(() => Int, { defaultValue: 0, description: 'Points for a RATING event of a course that earns.' }) @Min(0) @Max(100_000) pointsPerRating!: number;
  @Field(() => Int, { defaultValue: 0, description: 'Most COMPLETE and RATING points one member earns at one brand in a UTC day (0: no cap).' })
  @Min(0)
  @Max(1_000_000)
  dailyActivityCap!: number;
  @Field(() => [LoyaltyRedemptionValueInput], { description: 'Currencies points can be redeemed in, and their value.' })
  @ArrayMaxSize(50)
  redemptionValues!: LoyaltyRedemptionValueInput[];
  @Field(() => Int, { defaultValue: 12, description: 'Points expire this many months after they were earned, first in first out.' }) @Min(1) @Max(120) expiryMonths!: number;
  @Field(() => [LoyaltyTierInput], { defaultValue: [] }) @ArrayMaxSize(10) tiers!: LoyaltyTierInput[];
  @Field({ defaultValue: false, description: "Whether the proposing brand's own courses earn too (each member chooses when it accepts)." })
  @IsBoolean()
  ownCourses!: boolean;
}

@ObjectType()
export class LoyaltyEarnRate {
  @Field() currency!: string;
  @Field(() => Int) points!: number;
}

@ObjectType()
export class LoyaltyRedemptionValue {
  @Field() currency!: string;
  @Field(() => Int) minorPerPoint!: number;
}

@ObjectType()
export class LoyaltyTier {
  @Field() name!: string;
  @Field(() => Int) minPoints!: number;
  @Field(() => Int) discountBasisPoints!: number;
  @Field() earlyAccess!: boolean;
}

@ObjectType()
export class LoyaltyAcceptance {
  @Field(() => ID) brandId!: string;
  @Field({ description: "Whether the member's own courses earn." }) ownCourses!: boolean;
  @Field(() => DateTimeScalar) acceptedAt!: Date;
}

@ObjectType({ description: 'Of the points one member brand issued: issued = redeemed + expired + reversed + outstanding.' })
export class LoyaltyBrandFigures {
  @Field(() => ID) brandId!: string;
  @Field(() => SafeIntScalar, { description: 'EARN, and ADJUST that adds, at this brand.' }) issued!: number;
  @Field(() => SafeIntScalar, { description: 'Of them, redeemed at any member brand.' }) redeemed!: number;
  @Field(() => SafeIntScalar, { description: 'Of them, expired.' }) expired!: number;
  @Field(() => SafeIntScalar, { description: 'Of them, taken back by refunds and adjustments.' }) reversed!: number;
  @Field(() => SafeIntScalar, { description: "Of them, unexpired and unspent: the brand's liability." }) outstanding!: number;
  @Field(() => [Money], { description: 'The liability in money, in each currency the programme redeems in.' }) outstandingValue!: Money[];
  @Field(() => SafeIntScalar, { description: 'Memberships the brand has linked its learners to.' }) members!: number;
}

@ObjectType({ description: "An alliance's joint loyalty programme, one version of it." })
export class LoyaltyProgram {
  @Field(() => ID) id!: string;
  @Field(() => ID) allianceId!: string;
  @Field(() => Int) version!: number;
  @Field(() => LoyaltyProgramStatus) status!: LoyaltyProgramStatus;
  @Field(() => [LoyaltyEarnRate]) earnRates!: LoyaltyEarnRate[];
  @Field(() => Int) pointsPerComplete!: number;
  @Field(() => Int) pointsPerRating!: number;
  @Field(() => Int) dailyActivityCap!: number;
  @Field(() => [LoyaltyRedemptionValue]) redemptionValues!: LoyaltyRedemptionValue[];
  @Field(() => Int) expiryMonths!: number;
  @Field(() => [LoyaltyTier]) tiers!: LoyaltyTier[];
  @Field(() => [LoyaltyAcceptance]) acceptances!: LoyaltyAcceptance[];
  @Field(() => ID) proposedBy!: string;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) activatedAt!: Date | null;
}

@ObjectType({ description: "One of the brand's own learners as a member of an alliance's programme." })
export class LoyaltyMember {
  @Field(() => ID, { description: 'The membership (the same at every member brand it is linked to).' }) id!: string;
  @Field(() => ID) allianceId!: string;
  @Field(() => ID) learnerId!: string;
  @Field(() => Int, { description: 'Points that can be spent now.' }) balance!: number;
  @Field(() => Int, { description: 'Points owed: spent points whose purchase was refunded; later earnings pay them first.' }) debt!: number;
  @Field(() => Int, { description: 'Of the balance, the points that expire in the next 30 days.' }) expiringIn30Days!: number;
  @Field(() => Int, { description: 'Points earned in the last 12 months, less what refunds reversed: what the tier is decided by.' }) pointsEarned12Months!: number;
  @Field(() => LoyaltyTier, { nullable: true, description: 'The highest tier those points reach; null below every tier.' }) tier!: LoyaltyTier | null;
  @Field(() => DateTimeScalar) linkedAt!: Date;
}

@ObjectType({ description: "One entry of a membership's ledger. Another brand's learners, events and keys are never in it." })
export class LoyaltyEntry {
  @Field(() => ID) id!: string;
  @Field(() => LoyaltyEntryKind) kind!: LoyaltyEntryKind;
  @Field(() => Int, { description: 'Positive when points were added, negative when taken.' }) points!: number;
  @Field(() => ID, { description: 'The member brand it was recorded at (for EARN: the brand that issued the points).' }) brandId!: string;
  @Field(() => DateTimeScalar) occurredAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true, description: 'When the points of an EARN (or an ADJUST that adds) expire.' }) expiresAt!: Date | null;
  @Field(() => Money, { nullable: true, description: 'A REDEEM: the discount given.' }) value!: Money | null;
  @Field(() => String, { nullable: true, description: 'What earned the points (PURCHASE, COMPLETE, RATING), or the reason of an ADJUST.' }) reason!: string | null;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

export const { Edge: LoyaltyEntryEdge, Connection: LoyaltyEntryConnection } = connectionTypes('LoyaltyEntry', LoyaltyEntry);

@InputType()
export class AdjustLoyaltyPointsInput {
  @Field(() => ID) learnerId!: string;
  @Field(() => ID, { nullable: true }) allianceId?: string | null;
  @Field(() => Int, { description: 'Points to add (a lot that expires like earned points) or, negative, to take (never below zero).' })
  @Min(-100_000_000)
  @Max(100_000_000)
  points!: number;
  @Field() @Length(1, 500) @IsNotBlank() reason!: string;
  @Field({ description: 'One adjustment per key and brand.' }) @Length(1, 200) @IsNotBlank() idempotencyKey!: string;
}

@ObjectType({ description: "A new membership, with its member code: show the code to the learner; it is not shown again (rotate it to get a new one)." })
export class LoyaltyEnrollment {
  @Field(() => LoyaltyMember) member!: LoyaltyMember;
  @Field({ description: 'What the learner gives another member brand to link there.' }) code!: string;
}

@InputType()
export class RedeemLoyaltyPointsInput {
  @Field(() => ID) learnerId!: string;
  @Field(() => ID, { nullable: true, description: 'Needed only when the brand has ACTIVE programmes in several alliances.' }) allianceId?: string | null;
  @Field(() => Int) @Min(1) @Max(100_000_000) points!: number;
  @Field() @Matches(CURRENCY, { message: 'currency must be an ISO 4217 code such as USD' }) currency!: string;
  @Field({ description: 'One redemption per key and brand: a retried request returns the first answer.' }) @Length(1, 200) @IsNotBlank() idempotencyKey!: string;
}

@ObjectType()
export class LoyaltyRedemption {
  @Field(() => ID) entryId!: string;
  @Field(() => Int) points!: number;
  @Field(() => Money, { description: 'The discount the redeeming brand gives: points × the programme\'s value in the currency.' }) value!: Money;
  learnerId!: string;
  allianceId!: string;
}
