
/** The contract's error codes (`extensions.code`). */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'QUERY_TOO_COMPLEX'
  | 'INTERNAL_SERVER_ERROR';

/**
 * An error whose message is written for the API's users and is safe to show
 * them. It is the domain's own: services throw it without knowing about
 * GraphQL, and the edge (src/error-mask.ts) turns it into a GraphQL error or
 * a JSON answer with `extensions.code`.
 */
export class AlliedError extends Error {
  /** `code` and the details, as a GraphQL error's `extensions` carry them. */
  readonly extensions: Record<string, unknown> & { code: ErrorCode };

  constructor(
    readonly code: ErrorCode,
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AlliedError';
    this.extensions = { code, ...details };
  }
}

export const unauthenticated = (message = 'A valid credential is required: send Authorization: Bearer <token>.') =>
  new AlliedError('UNAUTHENTICATED', message);
export const forbidden = (message = 'Your credential does not allow this operation.') =>
  new AlliedError('FORBIDDEN', message);
export const notFound = (what: string) => new AlliedError('NOT_FOUND', `${what} not found.`);
export const badInput = (message: string, details?: Record<string, unknown>) =>
  new AlliedError('BAD_USER_INPUT', message, details);
export const conflict = (message: string) => new AlliedError('CONFLICT', message);

/** PostgreSQL error codes the services translate. */
export const PG = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
  notNullViolation: '23502',
  stringTooLong: '22001',
  invalidText: '22P02',
  queryCanceled: '57014',
} as const;

export function pgCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}
