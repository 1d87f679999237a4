import { ArrayMaxSize, IsOptional, IsUrl, Length, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Money, MoneyInput, Node } from './common.types';
import { connectionTypes } from './connection';
import { DateTimeScalar, SafeIntScalar } from './scalars';
import { IsNotBlank } from './validators';
import { CampaignKind, CampaignStatus, Channel, SportsPropertyKind } from '../entities/enums';
export { CampaignKind, CampaignStatus, Channel, SportsPropertyKind };

registerEnumType(CampaignKind, { name: 'CampaignKind' });
registerEnumType(CampaignStatus, { name: 'CampaignStatus' });
registerEnumType(Channel, { name: 'Channel' });
registerEnumType(SportsPropertyKind, { name: 'SportsPropertyKind' });

@ObjectType({ implements: Node })
export class Creative extends Node {
  @Field(() => Channel) channel!: Channel;
  @Field() headline!: string;
  @Field(() => String, { nullable: true }) body!: string | null;
  @Field(() => String, { nullable: true }) imageUrl!: string | null;
}

@ObjectType()
export class Sponsorship {
  @Field(() => SportsPropertyKind) propertyKind!: SportsPropertyKind;
  @Field() propertyName!: string;
  @Field() sport!: string;
  @Field(() => DateTimeScalar, { nullable: true }) startsAt!: Date | null;
  @Field(() => Money) fee!: Money;
}

/** `owner`, `alliance`, `courses` and `creatives` are resolved by CampaignResolver. */
@ObjectType({ implements: Node })
export class Campaign extends Node {
  @Field() name!: string;
  @Field(() => CampaignKind) kind!: CampaignKind;
  @Field(() => CampaignStatus) status!: CampaignStatus;
  @Field(() => DateTimeScalar) startsAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) endsAt!: Date | null;
  @Field(() => Int, { nullable: true, description: "Daily delivery window in the campaign's time zone, e.g. 21..23." })
  windowStartHour!: number | null;
  @Field(() => Int, { nullable: true }) windowEndHour!: number | null;
  @Field() timeZone!: string;
  @Field(() => Int, {
    description: 'Days after a click on this campaign during which a purchase that names no campaign is attributed to it (last click wins).',
  })
  attributionWindowDays!: number;
  @Field(() => Money) budget!: Money;
  @Field(() => [String]) targetSegments!: string[];
  @Field(() => Sponsorship, { nullable: true }) sponsorship!: Sponsorship | null;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

@ObjectType({ description: 'Everything attributed to a campaign since it began (see the attribution rule in the README).' })
export class CampaignMetrics {
  @Field(() => SafeIntScalar, { description: 'IMPRESSION events naming the campaign or one of its creatives.' }) impressions!: number;
  @Field(() => SafeIntScalar, { description: 'CLICK events naming the campaign or one of its creatives, and EMAIL_CLICK events of its messages.' }) clicks!: number;
  @Field(() => Float, { description: 'clicks / impressions; 0 without impressions.' }) ctr!: number;
  @Field(() => SafeIntScalar, { description: 'Purchases attributed to the campaign.' }) conversions!: number;
  @Field(() => Float, { description: 'conversions / clicks; 0 without clicks.' }) conversionRate!: number;
  @Field(() => [Money], { description: 'Recorded spend, one amount per currency.' }) spend!: Money[];
  @Field(() => [Money], { description: 'Attributed purchases less their refunds, one amount per currency.' }) revenue!: Money[];
  @Field(() => Float, {
    nullable: true,
    description: '(revenue − spend) / spend in the currency of the spend; null when nothing was spent or spend is in several currencies.',
  })
  roi!: number | null;
}

export const { Edge: CampaignEdge, Connection: CampaignConnection } = connectionTypes('Campaign', Campaign);

@InputType()
export class SponsorshipInput {
  @Field(() => SportsPropertyKind) propertyKind!: SportsPropertyKind;
  @Field() @Length(1, 200) @IsNotBlank() propertyName!: string;
  @Field() @Length(1, 100) @IsNotBlank() sport!: string;
  @Field(() => DateTimeScalar, { nullable: true }) startsAt?: Date | null;
  @Field(() => MoneyInput) @ValidateNested() fee!: MoneyInput;
}

const hour = () => {
  const min = Min(0, { message: 'window hours must be 0..23' });
  const max = Max(23, { message: 'window hours must be 0..23' });
  return (target: object, property: string) => {
    min(target, property);
    max(target, property);
  };
};

@InputType()
export class CreateCampaignInput {
  @Field() @Length(1, 200) @IsNotBlank() name!: string;
  @Field(() => CampaignKind) kind!: CampaignKind;
  @Field(() => ID, { nullable: true }) allianceId?: string | null;
  @Field(() => DateTimeScalar) startsAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) endsAt?: Date | null;
  @Field(() => Int, { nullable: true }) @IsOptional() @hour() windowStartHour?: number | null;
  @Field(() => Int, { nullable: true }) @IsOptional() @hour() windowEndHour?: number | null;
  @Field(() => String, { nullable: true, defaultValue: 'UTC' }) @IsOptional() @MaxLength(64) timeZone?: string | null;
  @Field(() => Int, { nullable: true, defaultValue: 7, description: 'Last-click attribution window in days, 1..90.' })
  @IsOptional()
  @Min(1, { message: 'attributionWindowDays must be 1..90' })
  @Max(90, { message: 'attributionWindowDays must be 1..90' })
  attributionWindowDays?: number | null;
  @Field(() => MoneyInput) @ValidateNested() budget!: MoneyInput;
  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(50, { message: 'at most 50 target segments' })
  @Length(1, 100, { each: true, message: 'each target segment must be 1..100 characters' })
  targetSegments?: string[] | null;
  @Field(() => [ID], { nullable: true }) @IsOptional() @ArrayMaxSize(50, { message: 'at most 50 courses' }) courseIds?: string[] | null;
  @Field(() => SponsorshipInput, { nullable: true }) @IsOptional() @ValidateNested() sponsorship?: SponsorshipInput | null;
}

@InputType()
export class CreativeInput {
  @Field(() => Channel) channel!: Channel;
  @Field() @Length(1, 200) @IsNotBlank() headline!: string;
  @Field({ nullable: true }) @IsOptional() @MaxLength(2000) body?: string;
  @Field({ nullable: true })
  @IsOptional()
  @MaxLength(2000)
  @IsUrl({ protocols: ['https', 'http'], require_protocol: true }, { message: 'imageUrl must be an http(s) URL' })
  imageUrl?: string;
}
