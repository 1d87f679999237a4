import { IsISO4217CurrencyCode, Matches } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Money, Node } from './common.types';
import { connectionTypes } from './connection';
import { DateTimeScalar, SafeIntScalar } from './scalars';

export enum SettlementStatus {
  DRAFT = 'DRAFT',
  FINALIZED = 'FINALIZED',
}
registerEnumType(SettlementStatus, { name: 'SettlementStatus' });

@ObjectType({
  description:
    "What one brand owes another for the discounts the other gave on its loyalty points in the period, netted against the reverse; FINALIZED with the settlement.",
})
export class SettlementLoyaltyLine {
  @Field(() => ID, { description: 'Issued the points; pays.' }) payerBrandId!: string;
  @Field(() => ID, { description: 'Gave the discount; is paid.' }) payeeBrandId!: string;
  @Field(() => SafeIntScalar, { description: "The payer's points redeemed at the payee." }) points!: number;
  @Field(() => Money, { description: 'Their value.' }) gross!: Money;
  @Field(() => SafeIntScalar, { description: "The payee's points redeemed at the payer." }) offsetPoints!: number;
  @Field(() => Money, { description: 'Their value, set against gross.' }) offset!: Money;
  @Field(() => Money, { description: 'gross − offset: what the payer pays the payee.' }) amount!: Money;
}

/** `brand` and `agreement` are resolved by SettlementResolver. */
@ObjectType({ description: "One brand's amount under one agreement version; a share change mid-period gives a brand two lines." })
export class SettlementLine {
  @Field(() => Int) shareBasisPoints!: number;
  @Field(() => Money) amount!: Money;
  @Field(() => Int, { description: 'The version of the agreement these amounts were split by.' }) agreementVersion!: number;
  @Field(() => Money, { description: "Purchases less refunds under this agreement version: the amount the version's lines split." })
  versionNet!: Money;
}

/** `alliance` and `lines` are resolved by SettlementResolver. */
@ObjectType({ implements: Node })
export class Settlement extends Node {
  @Field() currency!: string;
  @Field(() => DateTimeScalar) periodStart!: Date;
  @Field(() => DateTimeScalar) periodEnd!: Date;
  @Field(() => SettlementStatus) status!: SettlementStatus;
  @Field(() => Money, { description: 'Purchases in the period.' }) gross!: Money;
  @Field(() => Money, { description: 'Refunds in the period, including clawbacks of purchases settled in earlier periods.' })
  refunds!: Money;
  @Field(() => Money, { description: 'The part of `refunds` refunding purchases made before the period.' }) clawbacks!: Money;
  @Field(() => Money, { description: 'gross − refunds; the lines sum to it exactly.' }) net!: Money;
  @Field(() => Int, { description: 'Purchases and refunds settled.' }) eventCount!: number;
  @Field(() => Int, { description: 'Purchases and refunds left unsettled: no agreement was in force when the purchase occurred.' })
  unsettledEventCount!: number;
  @Field(() => DateTimeScalar, { nullable: true, description: 'Earliest occurredAt among the unsettled events.' })
  unsettledFrom!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true, description: 'Latest occurredAt among the unsettled events.' })
  unsettledTo!: Date | null;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar, { description: 'When the figures were last computed (each run of a DRAFT recomputes them).' })
  computedAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) finalizedAt!: Date | null;
}

export const { Edge: SettlementEdge, Connection: SettlementConnection } = connectionTypes('Settlement', Settlement);

@InputType()
export class RunSettlementInput {
  @Field(() => ID) allianceId!: string;
  @Field()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code such as USD, EUR or CNY' })
  @IsISO4217CurrencyCode({ message: 'currency must be an ISO 4217 code such as USD, EUR or CNY' })
  currency!: string;
  @Field(() => DateTimeScalar) periodStart!: Date;
  @Field(() => DateTimeScalar, { description: 'Exclusive.' }) periodEnd!: Date;
}
