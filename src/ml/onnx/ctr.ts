import type { FmWeights } from '../ctr/fm';
import type { LrWeights } from '../ctr/lr';
import { GraphBuilder } from './builder';

/**
 * The serving graphs of the CTR models. Input `indices` int32 [batch, F]
 * (the hashed features, src/ml/ctr/features.ts); output `probability`
 * float32 [batch]. Index 0 is padding: its weight and factor rows are zero,
 * so it adds nothing to a sum (and nothing to either FM square).
 */

/** σ(bias + Σ_f w[indices[b, f]]). */
export function lrGraph(model: LrWeights, F: number): Uint8Array {
  const g = new GraphBuilder('allied_ctr_lr');
  g.input('indices', 'int32', ['batch', F]);
  g.initializer('axis_features', 'int64', [1], BigInt64Array.of(1n));
  const logit = linear(g, model.buckets, model.w, model.bias);
  g.node('Sigmoid', [logit], 'probability');
  g.output('probability', 'float32', ['batch']);
  return g.toBytes();
}

/**
 * σ(bias + Σ_f w_f + ½ Σ_c ((Σ_f v_fc)² − Σ_f v_fc²)), v_f the factor row of
 * indices[b, f]: the factorisation machine's pairwise term in O(F·k).
 */
export function fmGraph(model: FmWeights, F: number): Uint8Array {
  const { buckets, k } = model;
  if (model.v.length !== buckets * k) throw new RangeError(`v has ${model.v.length} values for ${buckets} × ${k}`);
  const g = new GraphBuilder('allied_ctr_fm');
  g.input('indices', 'int32', ['batch', F]);
  g.initializer('axis_features', 'int64', [1], BigInt64Array.of(1n));
  g.initializer('v', 'float32', [buckets, k], model.v);
  g.initializer('half', 'float32', [1], Float32Array.of(0.5));
  const lin = linear(g, buckets, model.w, model.bias);
  g.node('Gather', ['v', 'indices'], 'factors', { axis: 0 }); // [B, F, k]
  g.node('ReduceSum', ['factors', 'axis_features'], 'factor_sum', { keepdims: 0 }); // [B, k]
  g.node('Mul', ['factor_sum', 'factor_sum'], 'sum_squared');
  g.node('Mul', ['factors', 'factors'], 'factors_squared');
  g.node('ReduceSum', ['factors_squared', 'axis_features'], 'squares_sum', { keepdims: 0 }); // [B, k]
  g.node('Sub', ['sum_squared', 'squares_sum'], 'pair_terms');
  g.node('ReduceSum', ['pair_terms', 'axis_features'], 'pair_sum', { keepdims: 0 }); // [B]
  g.node('Mul', ['pair_sum', 'half'], 'pairwise');
  g.node('Add', [lin, 'pairwise'], 'logit');
  g.node('Sigmoid', ['logit'], 'probability');
  g.output('probability', 'float32', ['batch']);
  return g.toBytes();
}

/** bias + Σ_f w[indices[b, f]], as `linear_logit` [B]; needs `indices` and `axis_features`. */
function linear(g: GraphBuilder, buckets: number, w: Float32Array, bias: number): string {
  if (w.length !== buckets) throw new RangeError(`w has ${w.length} values for ${buckets} buckets`);
  g.initializer('w', 'float32', [buckets], w);
  g.initializer('bias', 'float32', [1], Float32Array.of(bias));
  g.node('Gather', ['w', 'indices'], 'weights', { axis: 0 }); // [B, F]
  g.node('ReduceSum', ['weights', 'axis_features'], 'weight_sum', { keepdims: 0 }); // [B]
  return g.node('Add', ['weight_sum', 'bias'], 'linear_logit');
}
