import {
  getNamedType,
  GraphQLError,
  isCompositeType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type ASTNode,
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type GraphQLType,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { AlliedError } from '../errors';
import { toGraphQLError } from '../error-mask';
import { textProblem } from './text';

/** Limits on one GraphQL document, checked before any other validation runs. */
export interface DocumentLimits {
  maxDepth: number;
  maxCost: number;
  maxAliases: number;
  maxDirectives: number;
  /** The page cap, assumed for `first` when a variable is null. */
  maxPage: number;
  maxSeriesPoints: number;
}

/** What one selection set costs: its depth, the objects it may touch, its aliases and directives. */
interface Measure {
  depth: number;
  cost: number;
  aliases: number;
  directives: number;
}

const ZERO: Measure = { depth: 0, cost: 0, aliases: 0, directives: 0 };

/**
 * Cost of fields whose resolvers do more than read a row: aggregates over a
 * brand's events, scans of every brand, settlement runs. Each counts as that
 * many objects; aliases of the same field add up.
 */
export const FIELD_WEIGHTS: Readonly<Record<string, number>> = {
  'Query.metrics': 100,
  'Query.metricsSeries': 100,
  'Query.partnerSuggestions': 100,
  'Campaign.metrics': 100,
  'Mutation.runSettlement': 500,
  'Mutation.finalizeSettlement': 500,
  'Mutation.recordEvents': 100,
  'Subscription.metrics': 100,
  // Two periods of the funnel; the satisfaction readings of every member per bucket.
  'Query.funnel': 200,
  'Query.allianceImpact': 100,
  'Query.suggestBudget': 200,
};

/**
 * Lists without a `first` argument, and how many items the estimate assumes
 * each returns. Where a rule of the domain caps a list (courses of a
 * campaign, events of a call) the cap is used; elsewhere a typical size.
 * The estimate refuses documents before they run; what holds whatever a list
 * turns out to hold is the runtime object budget (`OperationBudget`): no
 * operation completes more than `maxCost` objects.
 */
export const LIST_SIZES: Readonly<Record<string, number>> = {
  'Alliance.members': 10,
  'Alliance.agreements': 10,
  'Agreement.shares': 10,
  'Agreement.acceptances': 10,
  'Campaign.courses': 50,
  'Campaign.creatives': 20,
  'Settlement.lines': 30,
  'Query.apiKeys': 50,
  'Query.models': 200,
  'Query.predictCtr': 1000,
  'Segmentation.segments': 8,
  // A text of at most 4,000 characters; entities do not overlap and most are several characters long.
  'DemandExtraction.entities': 500,
  'Query.demandTrends': 100,
  'Experiment.arms': 10,
  'ExperimentArm.revenue': 5,
  'CampaignMetrics.spend': 5,
  'CampaignMetrics.revenue': 5,
  'MetricsSnapshot.revenue': 5,
  'MetricsPoint.revenue': 5,
  // Counted at Query.metricsSeries, from its arguments (see seriesPoints).
  'MetricsSeries.points': 1,
  'RecordEventsResult.rejected': 1000,
  'Query.emailTemplates': 500,
  'Query.journeys': 500,
  'Campaign.journeys': 100,
  'LoyaltyProgram.earnRates': 50,
  'Settlement.loyaltyLines': 100,
  'LoyaltyProgram.redemptionValues': 50,
  'LoyaltyProgram.tiers': 10,
  'LoyaltyProgram.figures': 100,
  'LoyaltyBrandFigures.outstandingValue': 50,
  'LoyaltyProgram.acceptances': 50,
  'Learner.loyalty': 20,
  'Journey.steps': 50,
  'JourneyGroupFigures.revenue': 5,
  'FunnelPeriod.stages': 5,
  // Counted at Query.allianceImpact, from its arguments (see seriesPoints).
  'AllianceImpact.points': 1,
  'ImpactPoint.members': 10,
  'SatisfactionFit.coefficients': 11,
  // At most 50 campaigns a call.
  'BudgetSuggestion.shares': 50,
};

/** Root fields whose points are counted from their from, to and bucket arguments, with the bucket each defaults to. */
const SERIES_FIELDS: Readonly<Record<string, string>> = { 'Query.metricsSeries': 'DAY', 'Query.allianceImpact': 'WEEK' };

const BUCKET_MS: Record<string, number> = { HOUR: 3_600_000, DAY: 86_400_000, WEEK: 7 * 86_400_000 };

/** Connection fields (with `first`) are sized by it; every other list of objects must be in LIST_SIZES. */
export function unsizedLists(schema: GraphQLSchema): string[] {
  const missing: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.args.some((a) => a.name === 'first') || !isList(field.type)) continue;
      if (!isCompositeType(getNamedType(field.type))) continue;
      const key = `${type.name}.${field.name}`;
      if (!isConnectionEdges(key) && !(key in LIST_SIZES)) missing.push(key);
    }
  }
  return missing;
}

/** A connection's edges are counted by the connection's `first`. */
function isConnectionEdges(key: string): boolean {
  return /^\w+Connection\.edges$/.test(key);
}

function isList(type: GraphQLType): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

const tooComplex = (limit: string, message: string) => new AlliedError('QUERY_TOO_COMPLEX', message, { limit });

/**
 * Measures every operation of a document in time linear in its size: each
 * fragment is measured once (on its own type condition) and its measure
 * reused wherever it is spread, so fragments that spread each other many
 * times cost no more to check than to read. A fragment cycle counts as
 * nothing here (graphql's own rules refuse it).
 */
export function measureDocument(
  schema: GraphQLSchema,
  document: DocumentNode,
  sizing: Sizing,
): Map<string, Measure & { type: string }> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  }
  const measured = new Map<string, Measure>();
  const inProgress = new Set<string>();

  const fragmentMeasure = (name: string): Measure => {
    const known = measured.get(name);
    if (known) return known;
    const fragment = fragments.get(name);
    if (!fragment || inProgress.has(name)) return ZERO;
    const condition = schema.getType(fragment.typeCondition.name.value);
    if (!condition || !isCompositeType(condition)) return ZERO;
    inProgress.add(name);
    const result = withDirectives(measureSet(fragment.selectionSet, condition), fragment.directives);
    inProgress.delete(name);
    measured.set(name, result);
    return result;
  };

  const measureSet = (set: SelectionSetNode, parent: GraphQLCompositeType): Measure => {
    let depth = 0;
    let cost = 0;
    let aliases = 0;
    let directives = 0;
    for (const selection of set.selections) {
      let inner: Measure;
      if (selection.kind === Kind.FIELD) {
        inner = measureField(selection, parent);
      } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        inner = withDirectives(fragmentMeasure(selection.name.value), selection.directives);
      } else {
        const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        inner = condition && isCompositeType(condition) ? withDirectives(measureSet(selection.selectionSet, condition), selection.directives) : ZERO;
      }
      depth = Math.max(depth, inner.depth);
      cost += inner.cost;
      aliases += inner.aliases;
      directives += inner.directives;
    }
    return { depth, cost, aliases, directives };
  };

  const measureField = (node: FieldNode, parent: GraphQLCompositeType): Measure => {
    const own = { aliases: node.alias ? 1 : 0, directives: node.directives?.length ?? 0 };
    // Introspection is not counted (production refuses it; it is bounded by the schema).
    if (node.name.value.startsWith('__')) return { depth: 0, cost: 0, ...own };
    const field = 'getFields' in parent ? (parent.getFields()[node.name.value] as GraphQLField<unknown, unknown> | undefined) : undefined;
    const key = `${parent.name}.${node.name.value}`;
    const weight = FIELD_WEIGHTS[key] ?? 1;
    const type = field ? getNamedType(field.type) : undefined;
    if (!field || !node.selectionSet || !type || !isCompositeType(type)) return { depth: 1, cost: weight, ...own };
    const child = measureSet(node.selectionSet, type);
    const items = key in SERIES_FIELDS ? seriesPoints(node, sizing, SERIES_FIELDS[key]) : itemCount(node, field, key, sizing);
    return {
      depth: child.depth + 1,
      cost: weight + items * child.cost,
      aliases: own.aliases + child.aliases,
      directives: own.directives + child.directives,
    };
  };

  const result = new Map<string, Measure & { type: string }>();
  for (const def of document.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    const root =
      def.operation === 'query' ? schema.getQueryType() : def.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
    if (!root) continue;
    result.set(def.name?.value ?? '', { type: def.operation, ...withDirectives(measureSet(def.selectionSet, root), def.directives) });
  }
  return result;
}

function withDirectives(measure: Measure, directives: readonly DirectiveNode[] | undefined): Measure {
  return directives?.length ? { ...measure, directives: measure.directives + directives.length } : measure;
}

/**
 * How arguments that size a field are read. Before variables are known (at
 * validation) a variable counts as the smallest size, so only documents that
 * are too costly whatever their variables are refused that early; with the
 * request's variables the measure is exact.
 */
export interface Sizing {
  maxPage: number;
  maxSeriesPoints: number;
  variables?: Readonly<Record<string, unknown>>;
}

/** An argument's value: a literal, a variable's value, or `undefined` (absent, or a variable not yet known). */
function argument(node: FieldNode, name: string, sizing: Sizing): unknown {
  const value = node.arguments?.find((a) => a.name.value === name)?.value;
  if (!value) return undefined;
  if (value.kind === Kind.VARIABLE) return sizing.variables?.[value.name.value];
  if (value.kind === Kind.INT) return Number(value.value);
  if (value.kind === Kind.STRING || value.kind === Kind.ENUM) return value.value;
  return null;
}

/** How many items a field returns at most: `first`, a list's known size, or one object. */
function itemCount(node: FieldNode, field: GraphQLField<unknown, unknown>, key: string, sizing: Sizing): number {
  const first = field.args.find((a) => a.name === 'first');
  if (first) {
    const given = node.arguments?.some((a) => a.name.value === 'first');
    const value = given ? argument(node, 'first', sizing) : first.defaultValue;
    if (typeof value === 'number') return Math.min(Math.max(value, 1), sizing.maxPage);
    return given && !sizing.variables ? 1 : sizing.maxPage;
  }
  if (!isList(field.type) || isConnectionEdges(key)) return 1;
  return LIST_SIZES[key] ?? sizing.maxPage;
}

/**
 * Points a `metricsSeries` or `allianceImpact` call returns, from its
 * `from`, `to` and `bucket` (every bucket from the one holding `from` up to
 * `to`); its selection is costed once per point.
 */
function seriesPoints(node: FieldNode, sizing: Sizing, defaultBucket: string): number {
  const from = argument(node, 'from', sizing);
  const to = argument(node, 'to', sizing);
  const bucket = argument(node, 'bucket', sizing) ?? defaultBucket;
  if (typeof from !== 'string' || typeof to !== 'string') return sizing.variables ? sizing.maxSeriesPoints : 1;
  const span = Date.parse(to) - Date.parse(from);
  const size = typeof bucket === 'string' ? BUCKET_MS[bucket] : undefined;
  // Arguments the resolver refuses cost nothing to refuse.
  const points = size ? Math.floor(span / size) + 2 : Number.NaN;
  if (!Number.isFinite(points) || span < 0 || points > sizing.maxSeriesPoints + 1) return 1;
  return points;
}

/**
 * A validation rule of every operation, over HTTP and WebSocket: string
 * literals with NUL characters or lone surrogates are the client's mistake.
 * (Size, depth, aliases, directives and cost are checked before validation,
 * by `OperationGuard.checkDocument`.)
 */
export function textLiteralsRule(): ValidationRule {
  return (context: ValidationContext) => ({
    StringValue(node) {
      const problem = textProblem(node.value);
      if (problem) context.reportError(toGraphQLError(new AlliedError('BAD_USER_INPUT', `A string in the document ${problem}.`, { at: location(node) })));
    },
  });
}

function location(node: ASTNode): string | undefined {
  const loc = node.loc?.startToken;
  return loc ? `${loc.line}:${loc.column}` : undefined;
}

/**
 * Why a document is refused, or null. Without `variables` (at validation)
 * variable-sized fields count as their smallest; with them (before
 * execution) the cost is the one the request really asks for.
 */
export function refuse(
  schema: GraphQLSchema,
  document: DocumentNode,
  limits: DocumentLimits,
  variables?: Readonly<Record<string, unknown>>,
  operationName?: string | null,
): AlliedError | null {
  const sizing = { maxPage: limits.maxPage, maxSeriesPoints: limits.maxSeriesPoints, variables: variables ? variables : undefined };
  for (const [name, m] of measureDocument(schema, document, sizing)) {
    if (variables && operationName != null && name !== operationName) continue;
    const which = name ? `The operation ${name}` : 'The operation';
    if (m.depth > limits.maxDepth) {
      return tooComplex('ALLIED_MAX_QUERY_DEPTH', `${which} is nested ${m.depth} levels deep; the limit is ${limits.maxDepth}.`);
    }
    if (m.aliases > limits.maxAliases) {
      return tooComplex('ALLIED_MAX_ALIASES', `${which} uses ${m.aliases} aliases; the limit is ${limits.maxAliases}.`);
    }
    if (m.directives > limits.maxDirectives) {
      return tooComplex('ALLIED_MAX_DIRECTIVES', `${which} uses ${m.directives} directives; the limit is ${limits.maxDirectives}.`);
    }
    if (m.cost > limits.maxCost) {
      return tooComplex(
        'ALLIED_MAX_QUERY_COST',
        `${which} could touch about ${m.cost > 1e12 ? 'more than 10^12' : m.cost} objects; the limit is ${limits.maxCost}. Ask for smaller pages or fewer fields.`,
      );
    }
  }
  return null;
}
