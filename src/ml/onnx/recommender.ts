import { GraphBuilder } from './builder';

/** A matrix-factorisation recommender's weights: one row of `factors` numbers per learner and per course. */
export interface FactorModel {
  learners: number;
  items: number;
  factors: number;
  /** learners × factors, row-major. */
  learnerFactors: Float32Array;
  /** items × factors, row-major. */
  itemFactors: Float32Array;
  /** One bias per item (popularity the factors do not explain); zeros for none. */
  itemBias: Float32Array;
}

/**
 * The serving graph of a factor model: for a batch of learner rows (int32),
 * look up their factors (Gather), score every item (MatMul with the item
 * factors, transposed at build time, plus the item bias), add the caller's
 * mask (0 to keep an item, a large negative number to exclude it: bought,
 * unpublished or invisible courses), and keep the `top` best (TopK), with
 * item rows as int32 so no BigInt reaches the caller.
 *
 * Inputs: `learner` int32 [batch], `mask` float32 [batch, items].
 * Outputs: `scores` float32 [batch, top], `items` int32 [batch, top].
 */
export function recommenderGraph(model: FactorModel, top: number): Uint8Array {
  const { learners, items, factors } = model;
  const k = Math.min(top, items);
  if (k < 1) throw new RangeError('a recommender needs at least one item');
  const g = new GraphBuilder('allied_recommender');
  g.input('learner', 'int32', ['batch']);
  g.input('mask', 'float32', ['batch', items]);
  g.initializer('learner_factors', 'float32', [learners, factors], model.learnerFactors);
  g.initializer('item_factors_t', 'float32', [factors, items], transpose(model.itemFactors, items, factors));
  g.initializer('item_bias', 'float32', [items], model.itemBias);
  g.initializer('top', 'int64', [1], BigInt64Array.of(BigInt(k)));
  g.node('Gather', ['learner_factors', 'learner'], 'learner_rows', { axis: 0 });
  g.node('MatMul', ['learner_rows', 'item_factors_t'], 'affinity');
  g.node('Add', ['affinity', 'item_bias'], 'biased');
  g.node('Add', ['biased', 'mask'], 'masked');
  g.nodeOutputs('TopK', ['masked', 'top'], ['scores', 'top_items'], { axis: 1, largest: 1, sorted: 1 });
  g.node('Cast', ['top_items'], 'items', { to: 6 /* INT32 */ });
  g.output('scores', 'float32', ['batch', k]);
  g.output('items', 'int32', ['batch', k]);
  return g.toBytes();
}

function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  return out;
}
