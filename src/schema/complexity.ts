import {
  getNamedType,
  isCompositeType,
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';
import { AlliedError } from '../errors';
import { MAX_PAGE } from '../services/pagination';

export interface ComplexityLimits {
  maxDepth: number;
  maxCost: number;
}

interface Measure {
  depth: number;
  cost: number;
}

/**
 * Rejects operations nested deeper than `maxDepth` or costing more than
 * `maxCost` before they execute. A field costs 1; a list field with `first`
 * multiplies its selection's cost by `first` (its default when omitted, the
 * page cap when it comes from a variable). Introspection is not counted.
 */
export function complexityRule(limits: ComplexityLimits): ValidationRule {
  return (context) => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) {
      if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    }
    const schema = context.getSchema();

    const measure = (set: SelectionSetNode, parent: GraphQLCompositeType, seen: Set<string>): Measure => {
      let depth = 0;
      let cost = 0;
      for (const selection of set.selections) {
        let inner: Measure;
        if (selection.kind === Kind.FIELD) {
          inner = measureField(selection, parent, seen);
        } else {
          const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? fragments.get(selection.name.value) : selection;
          const name = selection.kind === Kind.FRAGMENT_SPREAD ? selection.name.value : undefined;
          if (!fragment || (name && seen.has(name))) continue;
          const condition = fragment.typeCondition ? schema.getType(fragment.typeCondition.name.value) : parent;
          if (!condition || !isCompositeType(condition)) continue;
          inner = measure(fragment.selectionSet, condition, name ? new Set(seen).add(name) : seen);
        }
        depth = Math.max(depth, inner.depth);
        cost += inner.cost;
      }
      return { depth, cost };
    };

    const measureField = (node: FieldNode, parent: GraphQLCompositeType, seen: Set<string>): Measure => {
      if (node.name.value.startsWith('__')) return { depth: 0, cost: 0 };
      const field = 'getFields' in parent ? (parent.getFields()[node.name.value] as GraphQLField<unknown, unknown>) : undefined;
      if (!field || !node.selectionSet) return { depth: 1, cost: 1 };
      const type = getNamedType(field.type);
      if (!isCompositeType(type)) return { depth: 1, cost: 1 };
      const child = measure(node.selectionSet, type, seen);
      return { depth: child.depth + 1, cost: 1 + pageSize(node, field) * child.cost };
    };

    return {
      OperationDefinition(operation) {
        const root =
          operation.operation === 'query'
            ? schema.getQueryType()
            : operation.operation === 'mutation'
              ? schema.getMutationType()
              : schema.getSubscriptionType();
        if (!root) return;
        const { depth, cost } = measure(operation.selectionSet, root, new Set());
        if (depth > limits.maxDepth) {
          context.reportError(
            new AlliedError('QUERY_TOO_COMPLEX', `The operation is nested ${depth} levels deep; the limit is ${limits.maxDepth}.`),
          );
        } else if (cost > limits.maxCost) {
          context.reportError(
            new AlliedError(
              'QUERY_TOO_COMPLEX',
              `The operation could touch about ${cost} objects; the limit is ${limits.maxCost}. Ask for smaller pages.`,
            ),
          );
        }
      },
    };
  };
}

function pageSize(node: FieldNode, field: GraphQLField<unknown, unknown>): number {
  const definition = field.args.find((a) => a.name === 'first');
  if (!definition) return 1;
  const given = node.arguments?.find((a) => a.name.value === 'first');
  if (!given) return typeof definition.defaultValue === 'number' ? definition.defaultValue : MAX_PAGE;
  if (given.value.kind === Kind.INT) return Math.min(Math.max(Number(given.value.value), 1), MAX_PAGE);
  return MAX_PAGE;
}
