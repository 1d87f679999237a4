import { ArrayMaxSize, IsOptional, Length, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from './common.types';
import { connectionTypes } from './connection';
import { DateTimeScalar, JSONScalar } from './scalars';
import { IsNotBlank } from './validators';
import { AllianceStatus, MemberRole, MemberStatus, AgreementStatus } from '../entities/enums';
export { AllianceStatus, MemberRole, MemberStatus, AgreementStatus };

registerEnumType(AllianceStatus, { name: 'AllianceStatus' });
registerEnumType(MemberRole, { name: 'MemberRole' });
registerEnumType(MemberStatus, { name: 'MemberStatus' });
registerEnumType(AgreementStatus, { name: 'AgreementStatus' });

/** `brand` is resolved by AllianceResolver. */
@ObjectType()
export class AllianceMember {
  @Field(() => MemberRole) role!: MemberRole;
  @Field(() => MemberStatus) status!: MemberStatus;
  @Field(() => DateTimeScalar, { nullable: true }) joinedAt!: Date | null;
}

/** `brand` is resolved by AgreementResolver. */
@ObjectType()
export class RevenueShare {
  @Field(() => Int, { description: 'Basis points; the shares of one agreement sum to exactly 10000.' })
  basisPoints!: number;
}

@ObjectType()
export class AgreementAcceptance {
  @Field(() => DateTimeScalar) acceptedAt!: Date;
}

/** Terms the members signed; `alliance`, `shares`, `acceptances` are resolved by AgreementResolver. */
@ObjectType({ implements: Node })
export class Agreement extends Node {
  @Field(() => Int) version!: number;
  @Field(() => AgreementStatus) status!: AgreementStatus;
  @Field(() => [String]) obligations!: string[];
  @Field(() => DateTimeScalar) effectiveFrom!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) effectiveTo!: Date | null;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

/** Members, agreements, courses and the audit log are resolved by AllianceResolver. */
@ObjectType({ implements: Node })
export class Alliance extends Node {
  @Field() name!: string;
  @Field(() => String, { nullable: true }) purpose!: string | null;
  @Field(() => AllianceStatus) status!: AllianceStatus;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

export const { Edge: AllianceEdge, Connection: AllianceConnection } = connectionTypes('Alliance', Alliance);

@ObjectType({ description: "One change to an alliance's membership or agreements, as recorded (append-only)." })
export class AuditEntry {
  @Field(() => ID) id!: string;
  @Field(() => DateTimeScalar) at!: Date;
  @Field({ description: 'The credential that made the change (token subject or API key).' }) actorSubject!: string;
  @Field() action!: string;
  @Field(() => JSONScalar, { nullable: true }) before!: unknown;
  @Field(() => JSONScalar, { nullable: true }) after!: unknown;
}

export const { Edge: AuditEntryEdge, Connection: AuditEntryConnection } = connectionTypes('AuditEntry', AuditEntry);

@ObjectType()
export class PartnerSuggestion {
  @Field(() => Float, { description: "0..1: how much the partner's resources fill this brand's gaps." })
  complementarity!: number;
  @Field(() => [String], {
    description: "Topics this brand's learners asked for in the last 90 days that its own PUBLISHED catalog lacks and the partner's PUBLISHED catalog has, most asked first.",
  })
  unmetDemands!: string[];
  @Field(() => Float, {
    description: 'What suggestions are ordered by: complementarity + 0.5 × the share of unmet demand the partner covers (learners per uncovered topic, summed over the topics it publishes, over the same sum for all; src/services/partner.service.ts).',
  })
  rank!: number;
  @Field() reason!: string;
}

@InputType()
export class CreateAllianceInput {
  @Field() @Length(1, 200) @IsNotBlank() name!: string;
  @Field({ nullable: true }) @IsOptional() @MaxLength(2000) purpose?: string;
  @Field(() => [ID], { description: "Brands invited at creation; the caller's brand becomes LEAD." })
  @ArrayMaxSize(50, { message: 'at most 50 brands may be invited at once' })
  inviteBrandIds!: string[];
}

@InputType()
export class ShareInput {
  @Field(() => ID) brandId!: string;
  @Field(() => Int)
  @Min(0, { message: 'basisPoints must be between 0 and 10000' })
  @Max(10000, { message: 'basisPoints must be between 0 and 10000' })
  basisPoints!: number;
}

@InputType()
export class ProposeAgreementInput {
  @Field(() => ID) allianceId!: string;
  @Field(() => [ShareInput]) @ValidateNested({ each: true }) @ArrayMaxSize(100) shares!: ShareInput[];
  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(50, { message: 'at most 50 obligations' })
  @Length(1, 500, { each: true, message: 'each obligation must be 1..500 characters' })
  obligations?: string[];
  @Field(() => DateTimeScalar) effectiveFrom!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) effectiveTo?: Date | null;
}

