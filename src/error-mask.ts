import { GraphQLError } from 'graphql';
import { ArgumentValidationError } from 'type-graphql';
import { AlliedError, pgCode, PG } from './errors';

/**
 * The edge between the domain's errors and what a client sees: domain
 * errors become GraphQL errors here, and every error is masked before it
 * leaves (no stack, SQL or constraint name).
 */

/** A domain error as a GraphQL error (for graphql's validation, graphql-ws and Apollo), keeping it as the original. */
export function toGraphQLError(error: AlliedError, extra?: Record<string, unknown>): GraphQLError {
  return new GraphQLError(error.message, { originalError: error, extensions: { ...error.extensions, ...extra } });
}

const CONTRACT_CODES = new Set<string>([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'RATE_LIMITED',
  'QUERY_TOO_COMPLEX',
  'INTERNAL_SERVER_ERROR',
]);

// Apollo's and graphql-js's codes for a request the client got wrong.
const CLIENT_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'PERSISTED_QUERY_NOT_FOUND',
]);

interface FormattedError {
  message: string;
  locations?: readonly { line: number; column: number }[];
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
}

/** Follows `originalError` links to the first error of class `type`, if any. */
function findInChain<T>(error: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  for (let e = error as { originalError?: unknown } | undefined, i = 0; e && i < 8; e = e.originalError as never, i++) {
    if (e instanceof type) return e;
  }
  return undefined;
}

interface ValidationFailure {
  property: string;
  constraints?: Record<string, string>;
  children?: ValidationFailure[];
}

function validationMessages(failures: ValidationFailure[], prefix = ''): { field: string; messages: string[] }[] {
  return failures.flatMap((f) => {
    const field = prefix ? `${prefix}.${f.property}` : f.property;
    const own = f.constraints ? [{ field, messages: Object.values(f.constraints) }] : [];
    return [...own, ...validationMessages(f.children ?? [], field)];
  });
}

export interface MaskOptions {
  /** Production: no "Did you mean …?" suggestions, which would reveal the schema. */
  hideSchema?: boolean;
}

// graphql's own messages for limits and caps that the client ran into.
// (graphql 16 spells it "more that".)
export const TOKEN_LIMIT = /^Syntax Error: Document contains more th(?:an|at) (\d+) tokens/;
const VARIABLE_ERROR_CAP = /^Too many errors processing variables/;
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

/**
 * What a client sees of an error: our own coded errors as written, mistakes
 * in the request as BAD_USER_INPUT, and everything else masked as
 * INTERNAL_SERVER_ERROR. No stack, SQL or constraint name ever leaves.
 * Returns `unexpected: true` for errors that deserve a log line.
 */
export function maskError(
  formatted: FormattedError,
  error: unknown,
  options: MaskOptions = {},
): { error: FormattedError; unexpected: boolean } {
  const masked = classify(formatted, error);
  if (options.hideSchema) masked.error.message = masked.error.message.replace(SUGGESTION, '');
  return masked;
}

function classify(formatted: FormattedError, error: unknown): { error: FormattedError; unexpected: boolean } {
  const where = { locations: formatted.locations, path: formatted.path };
  const allied = findInChain(error, AlliedError);
  if (allied) {
    const { http: _http, ...extensions } = allied.extensions as Record<string, unknown>;
    return { error: { message: allied.message, ...where, extensions }, unexpected: false };
  }
  const invalid = findInChain(error, ArgumentValidationError);
  if (invalid) {
    const fields = validationMessages((invalid.extensions.validationErrors ?? []) as ValidationFailure[]);
    const message = `Invalid input: ${fields.flatMap((f) => f.messages).join('; ')}.`;
    return { error: { message, ...where, extensions: { code: 'BAD_USER_INPUT', fields } }, unexpected: false };
  }
  const original = (error as { originalError?: unknown })?.originalError;
  const code = String(formatted.extensions?.code ?? '');
  const tokens = TOKEN_LIMIT.exec(formatted.message);
  if (tokens) {
    const message = `The document has more than ${tokens[1]} tokens; the limit is ${tokens[1]}.`;
    return { error: { message, ...where, extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'ALLIED_MAX_QUERY_TOKENS' } }, unexpected: false };
  }
  if (VARIABLE_ERROR_CAP.test(formatted.message)) {
    const message = 'Too many variables are invalid (graphql stops at 50); fix the ones reported and send again.';
    return { error: { message, ...where, extensions: { code: 'BAD_USER_INPUT' } }, unexpected: false };
  }
  // graphql's own request errors (validation, variable coercion) have no
  // path: they arise before any resolver runs. Over WebSocket nothing codes them.
  if (CLIENT_CODES.has(code) || (!code && !formatted.path && error instanceof GraphQLError)) {
    return { error: { message: formatted.message, ...where, extensions: { code: 'BAD_USER_INPUT' } }, unexpected: false };
  }
  const pg = pgCode(original ?? error);
  if (pg === PG.queryCanceled) {
    const message = 'A statement of the operation ran past its time limit; ask for less at once.';
    return { error: { message, ...where, extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'ALLIED_STATEMENT_TIMEOUT_MS' } }, unexpected: false };
  }
  if (/timeout exceeded when trying to connect/i.test(String((original as Error | undefined)?.message ?? ''))) {
    const message = 'The database is busy; retry shortly.';
    return { error: { message, ...where, extensions: { code: 'RATE_LIMITED', limit: 'DATABASE_POOL', retryAfter: 1 } }, unexpected: false };
  }
  if (pg === PG.uniqueViolation) {
    return { error: { message: 'This conflicts with an existing record.', ...where, extensions: { code: 'CONFLICT' } }, unexpected: true };
  }
  if (pg && /^(22|23)/.test(pg)) {
    return {
      error: { message: 'The input violates a data rule (length, range or format).', ...where, extensions: { code: 'BAD_USER_INPUT' } },
      unexpected: true,
    };
  }
  if (CONTRACT_CODES.has(code) && code !== 'INTERNAL_SERVER_ERROR' && !original) {
    return { error: { message: formatted.message, ...where, extensions: { code } }, unexpected: false };
  }
  return {
    error: { message: 'Internal server error.', ...where, extensions: { code: 'INTERNAL_SERVER_ERROR' } },
    unexpected: true,
  };
}
