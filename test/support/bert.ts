import { GraphBuilder } from '../../src/ml/onnx/builder';
import { Random } from '../../src/ml/train/random';

/**
 * A tiny, randomly initialised graph with a BERT token classifier's inputs
 * and output (no real weights exist on this machine), its vocabulary and
 * labels: what tests register as a brand's own NER model.
 */

export const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'need', 'a', 'begin', '##ner', 'python', 'course', ',', 'video', '想', '学', '古', '琴', '周', '末', 'in', 'beijing'];
export const LABELS = ['O', 'B-TOPIC', 'I-TOPIC', 'B-LEVEL', 'I-LEVEL', 'B-LOC', 'I-LOC', 'B-TIME', 'I-TIME'];
export const H = 8;

export interface Weights {
  word: Float32Array;
  type: Float32Array;
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
}

export function randomWeights(seed: number): Weights {
  const random = new Random(seed);
  const init = (n: number, scale: number) => Float32Array.from({ length: n }, () => random.normal() * scale);
  return { word: init(VOCAB.length * H, 1), type: init(2 * H, 0.1), w1: init(H * H, 0.7), b1: init(H, 0.1), w2: init(H * LABELS.length, 1.5), b2: init(LABELS.length, 0.3) };
}

/** A graph with BERT's inputs and output declared, and the word embeddings of `w` (its first `rows` rows). */
export function bertInterface(name: string, w: Weights, rows = VOCAB.length): GraphBuilder {
  const g = new GraphBuilder(name);
  g.input('input_ids', 'int64', ['batch', 'tokens']);
  g.input('attention_mask', 'int64', ['batch', 'tokens']);
  g.input('token_type_ids', 'int64', ['batch', 'tokens']);
  g.output('logits', 'float32', ['batch', 'tokens', LABELS.length]);
  g.initializer('word_embeddings', 'float32', [rows, H], w.word.subarray(0, rows * H));
  return g;
}

/** embeddings (word + token type) × mask → tanh(· W1 + b1) → · W2 + b2: BERT's inputs and output around a tiny body. */
export function bertShapedGraph(w: Weights): Uint8Array {
  const g = bertInterface('tiny_bert_token_classifier', w);
  g.initializer('type_embeddings', 'float32', [2, H], w.type);
  g.initializer('w1', 'float32', [H, H], w.w1);
  g.initializer('b1', 'float32', [H], w.b1);
  g.initializer('w2', 'float32', [H, LABELS.length], w.w2);
  g.initializer('b2', 'float32', [LABELS.length], w.b2);
  g.initializer('axis2', 'int64', [1], BigInt64Array.of(2n));
  g.node('Gather', ['word_embeddings', 'input_ids'], 'words', { axis: 0 });
  g.node('Gather', ['type_embeddings', 'token_type_ids'], 'types', { axis: 0 });
  g.node('Add', ['words', 'types'], 'embedded');
  g.node('Cast', ['attention_mask'], 'mask_float', { to: 1 });
  g.node('Unsqueeze', ['mask_float', 'axis2'], 'mask3');
  g.node('Mul', ['embedded', 'mask3'], 'masked');
  g.node('MatMul', ['masked', 'w1'], 'h1');
  g.node('Add', ['h1', 'b1'], 'h1b');
  g.node('Tanh', ['h1b'], 'hidden');
  g.node('MatMul', ['hidden', 'w2'], 'projected');
  g.node('Add', ['projected', 'b2'], 'logits');
  return g.toBytes();
}


/** The labels as labels.json files hold them in exports: a config's id2label. */
export const LABELS_JSON = JSON.stringify({ id2label: Object.fromEntries(LABELS.map((l, i) => [String(i), l])) });
