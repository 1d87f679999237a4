import { GraphBuilder } from '../onnx/builder';
import { BIO_LABELS, bioToSpans, isBegin, typeOfLabel, type Span } from './types';

/**
 * The character tagger Allied ships and trains per brand: an embedding of
 * each UTF-16 code unit, convolution layers of width 3 (each with its
 * dilation, ReLU, zero outside the text), and a linear layer to BIO logits.
 * Weights are plain arrays so that a version stores them as JSON-free
 * float32 inside its ONNX graph; this file builds that graph, computes the
 * same forward pass in TypeScript (the check the graph is held to), and
 * decodes logits into spans.
 */
export interface TaggerWeights {
  /** Folded units by id (vocab.ts); 0 padding, 1 unknown. */
  units: string[];
  dim: number;
  /** vocabulary × dim, row-major. */
  embedding: Float32Array;
  layers: TaggerLayer[];
  /** hidden × labels, row-major, and labels. */
  outW: Float32Array;
  outB: Float32Array;
}

/**
 * One convolution: y[t] = ReLU(b + Σ_j x[t + (j − 1)·dilation] · W_j), the
 * three W_j stacked as rows of W: (3 · inputs) × outputs, row-major,
 * j-major (the rows of W_0, then W_1, then W_2).
 */
export interface TaggerLayer {
  inputs: number;
  outputs: number;
  dilation: number;
  W: Float32Array;
  b: Float32Array;
}

export const LABELS = BIO_LABELS.length;
export const KERNEL = 3;

/**
 * The serving graph. Inputs: `ids` int32 [batch, time] and `mask` float32
 * [batch, 1, time] (1 inside a text, 0 in its padding); output `logits`
 * float32 [batch, time, labels]. Each layer's output is multiplied by the
 * mask, so a batch of texts of different lengths scores each exactly as
 * alone.
 */
export function taggerGraph(weights: TaggerWeights): Uint8Array {
  const g = new GraphBuilder('allied_ner_tagger');
  const vocabularySize = weights.units.length;
  g.input('ids', 'int32', ['batch', 'time']);
  g.input('mask', 'float32', ['batch', 1, 'time']);
  g.output('logits', 'float32', ['batch', 'time', LABELS]);
  g.initializer('embedding', 'float32', [vocabularySize, weights.dim], weights.embedding);
  g.node('Gather', ['embedding', 'ids'], 'embedded', { axis: 0 }); // [B, T, D]
  g.node('Transpose', ['embedded'], 'channels_0', { perm: [0, 2, 1] }); // [B, D, T]
  let x = g.node('Mul', ['channels_0', 'mask'], 'masked_0');
  weights.layers.forEach((layer, l) => {
    g.initializer(`conv_${l}_w`, 'float32', [layer.outputs, layer.inputs, KERNEL], convKernel(layer));
    g.initializer(`conv_${l}_b`, 'float32', [layer.outputs], layer.b);
    g.node('Conv', [x, `conv_${l}_w`, `conv_${l}_b`], `conv_${l}`, {
      kernel_shape: [KERNEL],
      dilations: [layer.dilation],
      pads: [layer.dilation, layer.dilation],
    });
    g.node('Relu', [`conv_${l}`], `relu_${l}`);
    x = g.node('Mul', [`relu_${l}`, 'mask'], `masked_${l + 1}`);
  });
  g.node('Transpose', [x], 'hidden', { perm: [0, 2, 1] }); // [B, T, H]
  const hidden = weights.layers.length ? weights.layers[weights.layers.length - 1].outputs : weights.dim;
  g.initializer('out_w', 'float32', [hidden, LABELS], weights.outW);
  g.initializer('out_b', 'float32', [LABELS], weights.outB);
  g.node('MatMul', ['hidden', 'out_w'], 'projected');
  g.node('Add', ['projected', 'out_b'], 'logits');
  return g.toBytes();
}

/** W (3·inputs × outputs, j-major rows) as ONNX Conv's [outputs, inputs, 3]. */
function convKernel(layer: TaggerLayer): Float32Array {
  const { inputs, outputs, W } = layer;
  const out = new Float32Array(outputs * inputs * KERNEL);
  for (let j = 0; j < KERNEL; j++) {
    for (let c = 0; c < inputs; c++) {
      for (let h = 0; h < outputs; h++) out[(h * inputs + c) * KERNEL + j] = W[(j * inputs + c) * outputs + h];
    }
  }
  return out;
}

/** The logits of one text of ids [time], time × labels, computed in TypeScript (float64 sums). */
export function taggerForward(weights: TaggerWeights, ids: ArrayLike<number>): Float32Array {
  const T = ids.length;
  let width = weights.dim;
  let x = new Float64Array(T * width);
  for (let t = 0; t < T; t++) for (let d = 0; d < width; d++) x[t * width + d] = weights.embedding[ids[t] * width + d];
  for (const layer of weights.layers) {
    const y = new Float64Array(T * layer.outputs);
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < layer.outputs; h++) {
        let s = layer.b[h];
        for (let j = 0; j < KERNEL; j++) {
          const u = t + (j - 1) * layer.dilation;
          if (u < 0 || u >= T) continue;
          for (let c = 0; c < layer.inputs; c++) s += x[u * layer.inputs + c] * layer.W[(j * layer.inputs + c) * layer.outputs + h];
        }
        y[t * layer.outputs + h] = s > 0 ? s : 0;
      }
    }
    x = y;
    width = layer.outputs;
  }
  const logits = new Float32Array(T * LABELS);
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < LABELS; k++) {
      let s = weights.outB[k];
      for (let h = 0; h < width; h++) s += x[t * width + h] * weights.outW[h * LABELS + k];
      logits[t * LABELS + k] = s;
    }
  }
  return logits;
}

/** Whether label `next` may follow `previous` (−1: the start): I-X only after B-X or I-X. */
export function allowed(previous: number, next: number): boolean {
  if (next === 0 || isBegin(next)) return true;
  return previous > 0 && typeOfLabel(previous) === typeOfLabel(next);
}

/** A decoded entity: its span and the mean probability of its labels. */
export interface TaggedSpan extends Span {
  confidence: number;
}

/**
 * Constrained decoding: the label sequence of highest total log-probability
 * (softmax per unit) among those with no I-X outside an X span (Viterbi
 * over the allowed transitions), then its spans, each with the mean
 * probability of its labels as confidence.
 */
export function decodeTags(logits: ArrayLike<number>, T: number): TaggedSpan[] {
  if (T === 0) return [];
  const logp = new Float64Array(T * LABELS);
  for (let t = 0; t < T; t++) {
    let max = -Infinity;
    for (let k = 0; k < LABELS; k++) max = Math.max(max, logits[t * LABELS + k]);
    let z = 0;
    for (let k = 0; k < LABELS; k++) z += Math.exp(logits[t * LABELS + k] - max);
    const lz = max + Math.log(z);
    for (let k = 0; k < LABELS; k++) logp[t * LABELS + k] = logits[t * LABELS + k] - lz;
  }
  const score = new Float64Array(T * LABELS).fill(-Infinity);
  const back = new Int32Array(T * LABELS).fill(-1);
  for (let k = 0; k < LABELS; k++) if (allowed(-1, k)) score[k] = logp[k];
  for (let t = 1; t < T; t++) {
    for (let k = 0; k < LABELS; k++) {
      let best = -Infinity;
      let from = -1;
      for (let p = 0; p < LABELS; p++) {
        const s = score[(t - 1) * LABELS + p];
        if (s > best && allowed(p, k)) {
          best = s;
          from = p;
        }
      }
      if (from >= 0) {
        score[t * LABELS + k] = best + logp[t * LABELS + k];
        back[t * LABELS + k] = from;
      }
    }
  }
  const labels = new Int32Array(T);
  let last = 0;
  for (let k = 1; k < LABELS; k++) if (score[(T - 1) * LABELS + k] > score[(T - 1) * LABELS + last]) last = k;
  labels[T - 1] = last;
  for (let t = T - 1; t > 0; t--) labels[t - 1] = back[t * LABELS + labels[t]];
  return bioToSpans(labels).map((span) => {
    let p = 0;
    for (let t = span.start; t < span.end; t++) p += Math.exp(logp[t * LABELS + labels[t]]);
    return { ...span, confidence: p / (span.end - span.start) };
  });
}
