import { ArgsType, Field, Int, ObjectType } from 'type-graphql';
import type { ClassType } from 'type-graphql';
import { DEFAULT_PAGE } from '../limits/pages';
import { PageInfo } from './common.types';

/** `<Name>Edge` and `<Name>Connection` for a node type, shaped as the contract's Relay connections. */
export function connectionTypes<T extends object>(name: string, node: ClassType<T>) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field(() => node) node!: T;
    @Field() cursor!: string;
  }

  @ObjectType(`${name}Connection`)
  class Connection {
    @Field(() => [Edge]) edges!: Edge[];
    @Field(() => PageInfo) pageInfo!: PageInfo;
    @Field(() => Int) totalCount!: number;
  }

  return { Edge, Connection };
}


/** `first` / `after` as the contract declares them; an explicit null `first` means the default. */
@ArgsType()
export class ConnectionArgs {
  @Field(() => Int, { nullable: true, defaultValue: DEFAULT_PAGE }) first?: number | null;
  @Field(() => String, { nullable: true }) after?: string | null;
}
