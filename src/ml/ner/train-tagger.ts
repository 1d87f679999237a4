import type * as TF from '@tensorflow/tfjs';
import type { ProgressCallback } from '../train/progress';
import { Random } from '../train/random';
import { KERNEL, LABELS, type TaggerWeights } from './tagger';
import { spansToBio, type AnnotatedText } from './types';
import { buildVocabulary, encodeInto, UNKNOWN, type Vocabulary } from './vocab';

export interface TaggerOptions {
  /** Embedding width. */
  dim?: number;
  /** Width and dilation of each convolution layer. */
  layers?: { outputs: number; dilation: number }[];
  epochs?: number;
  /** Text units per optimisation step (sentences are packed up to it). */
  batchUnits?: number;
  learningRate?: number;
  /** Units seen fewer times than this are read as unknown. */
  minCount?: number;
  /** Longer sentences are cut to this many units. */
  maxLength?: number;
  /**
   * Share of text units read as unknown in each step, whatever their label,
   * so that a unit the vocabulary lacks is not taken for a name: in the
   * corpus most rare units are people and places, in learners' text they
   * are anything.
   */
  unknownRate?: number;
  seed?: number;
}

export const TAGGER_DEFAULTS: Required<TaggerOptions> = {
  dim: 32,
  layers: [
    { outputs: 64, dilation: 1 },
    { outputs: 64, dilation: 2 },
    { outputs: 64, dilation: 4 },
  ],
  epochs: 6,
  batchUnits: 256,
  learningRate: 0.002,
  minCount: 2,
  maxLength: 160,
  unknownRate: 0.1,
  seed: 1,
};

export interface TaggerTraining {
  weights: TaggerWeights;
  /** Mean training loss of each epoch. */
  losses: number[];
  units: number;
  sentences: number;
  hyper: Required<TaggerOptions>;
}

let backend: Promise<typeof TF> | null = null;

/**
 * TensorFlow.js on its WebAssembly backend, loaded on first use (training
 * only: serving runs the ONNX graph). Two kernels the wasm backend lacks
 * are avoided rather than patched: the embedding's gradient is a scatter-add
 * (ScatterNd sums repeated rows) instead of UnsortedSegmentSum, and each
 * convolution is three shifted matrix products (no Conv2DBackpropFilter).
 */
export function tensorflow(): Promise<typeof TF> {
  backend ??= (async () => {
    const tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm');
    await tf.ready();
    return tf;
  })();
  return backend;
}

interface Packed {
  ids: Int32Array;
  labels: Int32Array;
  mask: Float32Array;
}

/**
 * Sentences packed into one column of units with `gap` padding units
 * before, between and after them, so that a convolution of dilation at most
 * `gap` never mixes two sentences; the mask is 0 on the padding.
 */
function pack(items: { ids: Int32Array; labels: Uint8Array }[], gap: number): Packed {
  const n = items.reduce((s, it) => s + it.ids.length + gap, gap);
  const packed: Packed = { ids: new Int32Array(n), labels: new Int32Array(n), mask: new Float32Array(n) };
  let at = gap;
  for (const it of items) {
    packed.ids.set(it.ids, at);
    packed.labels.set(it.labels, at);
    packed.mask.fill(1, at, at + it.ids.length);
    at += it.ids.length + gap;
  }
  return packed;
}

/**
 * Trains the character tagger on annotated sentences: Adam on the masked
 * softmax cross-entropy of each unit's BIO label, sentences in a seeded
 * shuffled order, packed into steps of about `batchUnits` units.
 * Deterministic for the same corpus and options. Runs on the calling
 * thread: call it in a TrainerPool worker.
 */
export async function trainTagger(corpus: readonly AnnotatedText[], options: TaggerOptions = {}, onProgress?: ProgressCallback): Promise<TaggerTraining> {
  const o = { ...TAGGER_DEFAULTS, ...options };
  if (corpus.length === 0) throw new RangeError('the tagger needs at least one sentence to learn from');
  const tf = await tensorflow();
  const vocab = buildVocabulary(corpus.map((s) => s.text), o.minCount);
  const items = corpus.map((s) => encodeSentence(s, vocab, o.maxLength));
  const units = items.reduce((s, it) => s + it.ids.length, 0);
  const random = new Random(o.seed);
  const gap = Math.max(1, ...o.layers.map((l) => l.dilation));
  const V = vocab.units.length;
  const init = (n: number, scale: number) => Float32Array.from({ length: n }, () => random.normal() * scale);

  const embedding = tf.variable(tf.tensor2d(init(V * o.dim, 0.1), [V, o.dim]));
  const layers = o.layers.map((layer, l) => {
    const inputs = l === 0 ? o.dim : o.layers[l - 1].outputs;
    return {
      ...layer,
      inputs,
      W: tf.variable(tf.tensor2d(init(KERNEL * inputs * layer.outputs, Math.sqrt(2 / (KERNEL * inputs))), [KERNEL * inputs, layer.outputs])),
      b: tf.variable(tf.zeros([layer.outputs])),
    };
  });
  const hidden = o.layers.length ? o.layers[o.layers.length - 1].outputs : o.dim;
  const outW = tf.variable(tf.tensor2d(init(hidden * LABELS, Math.sqrt(1 / hidden)), [hidden, LABELS]));
  const outB = tf.variable(tf.zeros([LABELS]));
  const optimizer = tf.train.adam(o.learningRate);

  // tf.customGrad hands the inputs, then a `save` function, as positional arguments.
  const embed = tf.customGrad(((table: TF.Tensor, ids: TF.Tensor, save: (tensors: TF.Tensor[]) => void) => {
    save([ids]);
    return {
      value: tf.gather(table, ids),
      gradFunc: (dy: TF.Tensor, saved: TF.Tensor[]) => [tf.scatterND(saved[0].reshape([-1, 1]), dy, [V, o.dim]), tf.zerosLike(saved[0])],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (table: TF.Tensor, ids: TF.Tensor) => TF.Tensor2D;

  const forward = (ids: TF.Tensor1D, mask: TF.Tensor2D): TF.Tensor2D => {
    const n = ids.shape[0];
    let x = embed(embedding, ids).mul(mask) as TF.Tensor2D;
    for (const layer of layers) {
      const d = layer.dilation;
      const padded = tf.pad(x, [[d, d], [0, 0]]);
      const shifted = tf.concat([0, d, 2 * d].map((from) => padded.slice([from, 0], [n, layer.inputs])), 1);
      x = tf.relu(tf.matMul(shifted, layer.W).add(layer.b)).mul(mask) as TF.Tensor2D;
    }
    return tf.matMul(x, outW).add(outB) as TF.Tensor2D;
  };

  const order = Int32Array.from({ length: items.length }, (_x, i) => i);
  const losses: number[] = [];
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = random.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    // The epoch's steps: sentences in the shuffled order, packed up to batchUnits units each.
    const chunks: { ids: Int32Array; labels: Uint8Array }[][] = [];
    for (let start = 0; start < order.length; ) {
      const chunk: { ids: Int32Array; labels: Uint8Array }[] = [];
      let size = 0;
      while (start < order.length && (size === 0 || size + items[order[start]].ids.length <= o.batchUnits)) {
        const it = items[order[start++]];
        chunk.push(it);
        size += it.ids.length;
      }
      chunks.push(chunk);
    }
    let total = 0;
    let steps = 0;
    for (const chunk of chunks) {
      const packed = pack(chunk, gap);
      for (let i = 0; i < packed.ids.length; i++) if (packed.mask[i] > 0 && random.next() < o.unknownRate) packed.ids[i] = UNKNOWN;
      const loss = tf.tidy(() => {
        const ids = tf.tensor1d(packed.ids, 'int32');
        const mask = tf.tensor2d(packed.mask, [packed.mask.length, 1]);
        const target = tf.oneHot(tf.tensor1d(packed.labels, 'int32'), LABELS).toFloat();
        const weights = tf.tensor1d(packed.mask);
        return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(target, forward(ids, mask), weights) as TF.Scalar, true)!;
      });
      total += (await loss.data())[0];
      loss.dispose();
      steps++;
      onProgress?.({
        fraction: (epoch - 1 + steps / chunks.length) / o.epochs,
        epoch,
        loss: total / steps,
        message: `tagger epoch ${epoch}/${o.epochs}, step ${steps}/${chunks.length}`,
      });
    }
    losses.push(total / Math.max(1, steps));
  }

  const read = async (t: TF.Tensor) => Float32Array.from(await t.data());
  const weights: TaggerWeights = {
    units: vocab.units,
    dim: o.dim,
    embedding: await read(embedding),
    layers: await Promise.all(layers.map(async (l) => ({ inputs: l.inputs, outputs: l.outputs, dilation: l.dilation, W: await read(l.W), b: await read(l.b) }))),
    outW: await read(outW),
    outB: await read(outB),
  };
  weights.embedding.fill(0, 0, o.dim); // padding reads as nothing
  tf.dispose([embedding, outW, outB, ...layers.flatMap((l) => [l.W, l.b])]);
  optimizer.dispose();
  return { weights, losses, units, sentences: items.length, hyper: o };
}

/** A sentence's unit ids and BIO labels, cut to `maxLength` units (entities past the cut are dropped with them). */
export function encodeSentence(sentence: AnnotatedText, vocab: Vocabulary, maxLength: number): { ids: Int32Array; labels: Uint8Array } {
  const text = sentence.text.slice(0, maxLength);
  const ids = new Int32Array(text.length);
  encodeInto(text, vocab, ids, 0);
  return { ids, labels: spansToBio(text, sentence.entities.filter((e) => e.end <= text.length)) };
}
