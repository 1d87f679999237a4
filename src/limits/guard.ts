import { GraphQLError, parse, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { Config } from '../config';
import { AlliedError, badInput } from '../errors';
import { TOKEN_LIMIT } from '../error-mask';
import type { Principal } from '../tenancy/principal';
import { refuse, type DocumentLimits } from './document';
import { RateLimiter, rateLimited } from './rate';
import { findTextProblem } from './text';

export interface GuardSizes {
  maxPage: number;
  maxSeriesPoints: number;
}

/**
 * The limits every GraphQL operation passes, whichever transport brought it
 * (HTTP or WebSocket): request rates per address and per brand, the size of
 * the document, the text in its variables and its cost with those variables.
 * Parsing (token count) and validation (depth, aliases, directives) are
 * limited by the parse options and rules that both transports share.
 */
// Verdicts by query text (the parsed document, or why it was refused):
// clients send the same few operations again and again, and so does a
// flood, and a hit costs one map lookup.
const VERDICTS_MAX = 1000;

export class OperationGuard {
  readonly document: DocumentLimits;
  private readonly perAddress: RateLimiter;
  private readonly perBrand: RateLimiter;
  private readonly verdicts = new Map<string, DocumentNode | AlliedError>();
  /** Cost verdicts of operations sent without variables, per parsed document and operation name. */
  private readonly costs = new WeakMap<DocumentNode, Map<string, AlliedError | null>>();

  constructor(
    private readonly limits: Config['limits'],
    sizes: GuardSizes,
  ) {
    this.document = {
      maxDepth: limits.maxDepth,
      maxCost: limits.maxCost,
      maxAliases: limits.maxAliases,
      maxDirectives: limits.maxDirectives,
      ...sizes,
    };
    this.perAddress = new RateLimiter('ALLIED_RATE_LIMIT_PER_IP', limits.ipRate, limits.ipBurst);
    this.perBrand = new RateLimiter('ALLIED_RATE_LIMIT_PER_BRAND', limits.brandRate, limits.brandBurst);
  }

  get parseOptions() {
    return { maxTokens: this.limits.maxTokens };
  }

  /** One request from `address`: RATE_LIMITED past the address's rate. */
  admitAddress(address: string): void {
    const wait = this.perAddress.take(address);
    if (wait > 0) throw rateLimited(this.perAddress.name, wait, `Too many requests from your address; retry in ${wait} s.`);
  }

  /** One request of the principal's brand: RATE_LIMITED past the brand's rate. */
  admitPrincipal(principal: Principal | null): void {
    if (!principal?.brandId) return;
    const wait = this.perBrand.take(principal.brandId);
    if (wait > 0) throw rateLimited(this.perBrand.name, wait, `Too many requests for your brand; retry in ${wait} s.`);
  }

  /** The query text's length, checked before it is parsed. */
  checkSource(query: unknown): void {
    if (typeof query === 'string' && query.length > this.limits.maxQueryChars) {
      throw new AlliedError(
        'QUERY_TOO_COMPLEX',
        `The query text is ${query.length} characters long; the limit is ${this.limits.maxQueryChars}.`,
        { limit: 'ALLIED_MAX_QUERY_CHARS', http: { status: 413 } },
      );
    }
  }

  /**
   * The parsed document of `query`, after the checks that need no variables:
   * its length, its token count (while parsing), then its depth, aliases,
   * directives and least cost, measured in one pass linear in its size. All
   * of it runs before graphql's own validation, some rules of which take
   * time quadratic in the number of fields: a refused document never
   * reaches them.
   */
  documentFor(schema: GraphQLSchema, query: string): DocumentNode {
    this.checkSource(query);
    let verdict = this.verdicts.get(query);
    if (!verdict) {
      try {
        const document = parse(query, this.parseOptions);
        verdict = refuse(schema, document, this.document) ?? document;
      } catch (error) {
        verdict = syntaxRefusal(error);
      }
      if (this.verdicts.size >= VERDICTS_MAX) this.verdicts.clear();
      this.verdicts.set(query, verdict);
    }
    if (verdict instanceof AlliedError) throw verdict;
    return verdict;
  }

  /** Variables holding text that cannot be stored are the client's mistake, named by path. */
  checkVariables(variables: unknown): void {
    const found = findTextProblem(variables, '');
    if (found) {
      throw badInput(`Variable $${found.path} ${found.problem}.`, { fields: [{ field: found.path, messages: [found.problem] }] });
    }
  }

  /** The operation's cost with its variables; null when within the limit. */
  costRefusal(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Readonly<Record<string, unknown>> | null | undefined,
    operationName: string | null | undefined,
  ): AlliedError | null {
    if (variables && Object.keys(variables).length > 0) return refuse(schema, document, this.document, variables, operationName);
    // Without variables the cost is the document's own: measured once per parsed document (Apollo keeps one per text).
    let byOperation = this.costs.get(document);
    if (!byOperation) this.costs.set(document, (byOperation = new Map()));
    const key = operationName ?? '';
    if (!byOperation.has(key)) byOperation.set(key, refuse(schema, document, this.document, {}, operationName));
    return byOperation.get(key)!;
  }
}


function syntaxRefusal(error: unknown): AlliedError {
  const message = error instanceof GraphQLError ? error.message : String(error);
  const tokens = TOKEN_LIMIT.exec(message);
  if (tokens) {
    return new AlliedError('QUERY_TOO_COMPLEX', `The document has more than ${tokens[1]} tokens; the limit is ${tokens[1]}.`, {
      limit: 'ALLIED_MAX_QUERY_TOKENS',
      http: { status: 400 },
    });
  }
  return new AlliedError('BAD_USER_INPUT', message, { http: { status: 400 } });
}
