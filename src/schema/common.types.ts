import { IsISO4217CurrencyCode, Matches, Min } from 'class-validator';
import { Field, ID, InputType, InterfaceType, ObjectType } from 'type-graphql';
import { SafeIntScalar } from './scalars';
import { nodeTypeName } from './node-types';

@InterfaceType({ resolveType: (value) => nodeTypeName(value) })
export abstract class Node {
  @Field(() => ID) id!: string;
}

@ObjectType()
export class PageInfo {
  @Field() hasNextPage!: boolean;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

@ObjectType()
export class Money {
  @Field(() => SafeIntScalar) amountMinor!: number;
  @Field() currency!: string;
}

@InputType()
export class MoneyInput {
  @Field(() => SafeIntScalar)
  @Min(0, { message: 'amountMinor must not be negative' })
  amountMinor!: number;

  @Field()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code such as USD, EUR or CNY' })
  @IsISO4217CurrencyCode({ message: 'currency must be an ISO 4217 code such as USD, EUR or CNY' })
  currency!: string;
}
