import { ArrayMaxSize, IsOptional, Length, MaxLength, ValidateNested } from 'class-validator';
import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { Money, MoneyInput, Node } from './common.types';
import { connectionTypes } from './connection';
import { DateTimeScalar } from './scalars';
import { IsNotBlank } from './validators';
import { CourseLevel, CourseFormat, CourseStatus, CatalogScope } from '../entities/enums';
export { CourseLevel, CourseFormat, CourseStatus, CatalogScope };

registerEnumType(CourseLevel, { name: 'CourseLevel' });
registerEnumType(CourseFormat, { name: 'CourseFormat' });
registerEnumType(CourseStatus, { name: 'CourseStatus' });
registerEnumType(CatalogScope, { name: 'CatalogScope' });

export const MAX_TOPICS = 20;

/** `owner` is resolved by CourseResolver. */
@ObjectType({ implements: Node })
export class Course extends Node {
  @Field() title!: string;
  @Field(() => Money) price!: Money;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => [String]) topics!: string[];
  @Field(() => CourseLevel) level!: CourseLevel;
  @Field(() => CourseFormat) format!: CourseFormat;
  @Field(() => CourseStatus) status!: CourseStatus;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

export const { Edge: CourseEdge, Connection: CourseConnection } = connectionTypes('Course', Course);

@InputType()
export class CourseFilter {
  @Field({ nullable: true }) @IsOptional() @MaxLength(200) search?: string;
  @Field({ nullable: true }) @IsOptional() @MaxLength(64) topic?: string;
  @Field(() => CourseStatus, { nullable: true }) status?: CourseStatus;
  @Field(() => ID, { nullable: true }) allianceId?: string;
  @Field(() => CatalogScope, { nullable: true, defaultValue: CatalogScope.ALLIANCE })
  scope?: CatalogScope;
}

function ValidTopics(): PropertyDecorator {
  const max = ArrayMaxSize(MAX_TOPICS, { message: `topics may hold at most ${MAX_TOPICS} entries` });
  const each = Length(1, 64, { each: true, message: 'each topic must be 1..64 characters' });
  return (target, property) => {
    max(target, property as string);
    each(target, property as string);
  };
}

@InputType()
export class CreateCourseInput {
  @Field() @Length(1, 200) @IsNotBlank() title!: string;
  @Field({ nullable: true }) @IsOptional() @MaxLength(5000) description?: string;
  @Field(() => [String]) @ValidTopics() topics!: string[];
  @Field(() => CourseLevel) level!: CourseLevel;
  @Field(() => CourseFormat) format!: CourseFormat;
  @Field(() => MoneyInput) @ValidateNested() price!: MoneyInput;
  @Field(() => ID, { nullable: true }) allianceId?: string;
}

@InputType()
export class UpdateCourseInput {
  @Field({ nullable: true }) @IsOptional() @Length(1, 200) @IsNotBlank() title?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(5000) description?: string | null;
  @Field(() => [String], { nullable: true }) @IsOptional() @ValidTopics() topics?: string[];
  @Field(() => CourseLevel, { nullable: true }) level?: CourseLevel;
  @Field(() => CourseFormat, { nullable: true }) format?: CourseFormat;
  @Field(() => MoneyInput, { nullable: true }) @IsOptional() @ValidateNested() price?: MoneyInput;
  @Field(() => CourseStatus, { nullable: true }) status?: CourseStatus;
}
