import { GraphQLDateTime, GraphQLJSON, GraphQLSafeInt } from 'graphql-scalars';

/** The contract's scalars: DateTime (RFC 3339, UTC), SafeInt (±(2^53 − 1)), JSON. */
export const DateTimeScalar = GraphQLDateTime;
export const SafeIntScalar = GraphQLSafeInt;
export const JSONScalar = GraphQLJSON;
