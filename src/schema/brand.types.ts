import { IsOptional, Length, Matches, MaxLength } from 'class-validator';
import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { Role } from '../tenancy/roles';
import { Node } from './common.types';
import { connectionTypes } from './connection';
import { DateTimeScalar, JSONScalar } from './scalars';
import { IsNotBlank, IsResources } from './validators';
import { BrandKind } from '../entities/enums';
export { BrandKind };

registerEnumType(BrandKind, { name: 'BrandKind' });
registerEnumType(Role, { name: 'Role' });

export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;

/** A brand is a tenant: it owns its courses, learners, events and campaigns. */
@ObjectType({ implements: Node })
export class Brand extends Node {
  @Field() slug!: string;
  @Field() name!: string;
  @Field(() => BrandKind) kind!: BrandKind;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => JSONScalar, { description: 'What the brand brings to an alliance, each in 0..1, keyed by capability.' })
  resources!: Record<string, number>;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

/** What any authenticated caller may see of another brand. */
@ObjectType()
export class BrandProfile {
  @Field(() => ID) id!: string;
  @Field() slug!: string;
  @Field() name!: string;
  @Field(() => BrandKind) kind!: BrandKind;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => JSONScalar) resources!: Record<string, number>;
}

export const { Edge: BrandProfileEdge, Connection: BrandProfileConnection } = connectionTypes(
  'BrandProfile',
  BrandProfile,
);

@ObjectType('Principal')
export class PrincipalType {
  @Field() subject!: string;
  @Field(() => Brand, { nullable: true }) brand!: Brand | null;
  @Field(() => [Role]) roles!: Role[];
}

@InputType()
export class CreateBrandInput {
  @Field()
  @Matches(SLUG_PATTERN, {
    message: 'slug must be 2..63 characters of lowercase letters, digits and hyphens, starting with a letter or digit',
  })
  slug!: string;

  @Field() @Length(1, 200) @IsNotBlank() name!: string;
  @Field(() => BrandKind) kind!: BrandKind;
  @Field({ nullable: true }) @IsOptional() @MaxLength(2000) description?: string;
  @Field(() => JSONScalar, { nullable: true }) @IsOptional() @IsResources() resources?: Record<string, number>;
}

@InputType()
export class UpdateBrandInput {
  @Field({ nullable: true }) @IsOptional() @Length(1, 200) @IsNotBlank() name?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(2000) description?: string | null;
  @Field(() => JSONScalar, { nullable: true }) @IsOptional() @IsResources() resources?: Record<string, number>;
}

@ObjectType()
export class ApiKeyCreated {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field(() => [Role]) roles!: Role[];
  @Field({ description: 'Shown once; only its hash is stored.' }) secret!: string;
}

@ObjectType({ description: "One of the caller's brand's API keys (never its secret)." })
export class ApiKey {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field(() => [Role]) roles!: Role[];
  @Field() createdBy!: string;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) revokedAt!: Date | null;
}
