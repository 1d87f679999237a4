import { GraphBuilder } from '../../src/ml/onnx/builder';
import { Random } from '../../src/ml/train/random';
import { Principal } from '../../src/tenancy/principal';
import { codes, TestApp, type TestBrand } from '../support/server';

/**
 * A brand's own BERT-style token classifier: a tiny, randomly initialised
 * graph with BERT's inputs and output, built here (no real weights exist on
 * this machine), registered the way `allied model register` does, and
 * served by extractDemands. What it answers is checked against a
 * computation of the same forward pass and the same word-level decoding
 * written independently below.
 */

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'need', 'a', 'begin', '##ner', 'python', 'course', ',', 'video', '想', '学', '古', '琴', '周', '末', 'in', 'beijing'];
const LABELS = ['O', 'B-TOPIC', 'I-TOPIC', 'B-LEVEL', 'I-LEVEL', 'B-LOC', 'I-LOC', 'B-TIME', 'I-TIME'];
const H = 8;
const EXTRACT = `query($t: String!) { extractDemands(text: $t) { model entities { type text start end confidence } } }`;

interface Weights {
  word: Float32Array;
  type: Float32Array;
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
}

function randomWeights(seed: number): Weights {
  const random = new Random(seed);
  const init = (n: number, scale: number) => Float32Array.from({ length: n }, () => random.normal() * scale);
  return { word: init(VOCAB.length * H, 1), type: init(2 * H, 0.1), w1: init(H * H, 0.7), b1: init(H, 0.1), w2: init(H * LABELS.length, 1.5), b2: init(LABELS.length, 0.3) };
}

/** embeddings (word + token type) × mask → tanh(· W1 + b1) → · W2 + b2: BERT's inputs and output around a tiny body. */
function bertShapedGraph(w: Weights): Uint8Array {
  const g = new GraphBuilder('tiny_bert_token_classifier');
  g.input('input_ids', 'int64', ['batch', 'tokens']);
  g.input('attention_mask', 'int64', ['batch', 'tokens']);
  g.input('token_type_ids', 'int64', ['batch', 'tokens']);
  g.output('logits', 'float32', ['batch', 'tokens', LABELS.length]);
  g.initializer('word_embeddings', 'float32', [VOCAB.length, H], w.word);
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

/** The same forward pass, one token at a time, in plain arithmetic. */
function logitsOf(w: Weights, id: number): number[] {
  const x = Array.from({ length: H }, (_v, h) => w.word[id * H + h] + w.type[h]);
  const hidden = Array.from({ length: H }, (_v, j) => Math.tanh(w.b1[j] + x.reduce((s, xv, i) => s + xv * w.w1[i * H + j], 0)));
  return LABELS.map((_l, k) => w.b2[k] + hidden.reduce((s, hv, j) => s + hv * w.w2[j * LABELS.length + k], 0));
}

/**
 * The expected entities of hand-tokenised words: each word is its pieces
 * (ids) and its text span; its label is the best at its first piece; B-
 * starts an entity, I- continues one of its type, O ends it.
 */
function expectedEntities(w: Weights, text: string, words: { ids: number[]; start: number; end: number }[]) {
  const out: { type: string; text: string; start: number; end: number; confidence: number }[] = [];
  let open: { type: string; start: number; end: number; ps: number[] } | null = null;
  const flush = () => {
    if (open) out.push({ type: open.type, text: text.slice(open.start, open.end), start: open.start, end: open.end, confidence: open.ps.reduce((a, b) => a + b, 0) / open.ps.length });
    open = null;
  };
  for (const word of words) {
    const z = logitsOf(w, word.ids[0]);
    const best = z.indexOf(Math.max(...z));
    const p = 1 / z.reduce((s, v) => s + Math.exp(v - z[best]), 0);
    const label = LABELS[best];
    if (label === 'O') {
      flush();
      continue;
    }
    const [bio, type] = label.split('-');
    const current = open as { type: string; start: number; end: number; ps: number[] } | null;
    if (bio === 'I' && current && current.type === type) {
      current.end = word.end;
      current.ps.push(p);
    } else {
      flush();
      open = { type, start: word.start, end: word.end, ps: [p] };
    }
  }
  flush();
  return out;
}

describe('a registered BERT NER graph', () => {
  let app: TestApp;
  let a: TestBrand;
  let b: TestBrand;
  const weights = randomWeights(7);

  beforeAll(async () => {
    app = await TestApp.start();
    a = await app.brand('Bert Alpha');
    b = await app.brand('Bert Beta');
  });
  afterAll(async () => {
    await app?.stop();
  });

  const register = (brand: TestBrand, input: Partial<{ onnx: Uint8Array; vocab: string; labels: string }>) =>
    app.server.app.runAs(Principal.system(brand.id, 'test register'), (ctx) =>
      app.server.app.services.models.registerBert(ctx, {
        onnx: input.onnx ?? bertShapedGraph(weights),
        vocab: input.vocab ?? `${VOCAB.join('\n')}\n`,
        labels: input.labels ?? JSON.stringify({ id2label: Object.fromEntries(LABELS.map((l, i) => [String(i), l])) }),
        lowercase: true,
      }),
    );

  it('refuses what is not a token classifier over Allied types, storing nothing', async () => {
    await expect(register(a, { labels: JSON.stringify(['O', 'B-MISC']) })).rejects.toThrow('MISC is not one of');
    await expect(register(a, { vocab: 'need\na\n' })).rejects.toThrow('[UNK]');
    await expect(register(a, { onnx: new Uint8Array([1, 2, 3]) })).rejects.toThrow('does not load');
    await expect(register(a, { labels: JSON.stringify(['O', 'B-LOC']) })).rejects.toThrow('logits');
    expect((await app.ok(a.token, `{ models(kind: NER) { id } }`)).models).toEqual([]);
  });

  it('serves extractDemands for its brand with the offsets and confidences of an independent decode, and no other brand', async () => {
    const version = await register(a, {});
    expect(version).toMatchObject({ kind: 'NER', status: 'READY', active: true });
    expect(version.metrics).toMatchObject({ registered: 'bert', labels: LABELS.length, vocabulary: VOCAB.length, inputType: 'int64' });

    const id = (piece: string) => VOCAB.indexOf(piece);
    const cases: { text: string; words: { ids: number[]; start: number; end: number }[] }[] = [
      {
        text: 'Need a BEGINNER Python course, video',
        words: [
          { ids: [id('need')], start: 0, end: 4 },
          { ids: [id('a')], start: 5, end: 6 },
          { ids: [id('begin'), id('##ner')], start: 7, end: 15 },
          { ids: [id('python')], start: 16, end: 22 },
          { ids: [id('course')], start: 23, end: 29 },
          { ids: [id(',')], start: 29, end: 30 },
          { ids: [id('video')], start: 31, end: 36 },
        ],
      },
      {
        text: '想学古琴，周末 in Beijing',
        words: [
          { ids: [id('想')], start: 0, end: 1 },
          { ids: [id('学')], start: 1, end: 2 },
          { ids: [id('古')], start: 2, end: 3 },
          { ids: [id('琴')], start: 3, end: 4 },
          { ids: [id('[UNK]')], start: 4, end: 5 },
          { ids: [id('周')], start: 5, end: 6 },
          { ids: [id('末')], start: 6, end: 7 },
          { ids: [id('in')], start: 8, end: 10 },
          { ids: [id('beijing')], start: 11, end: 18 },
        ],
      },
    ];
    let found = 0;
    for (const { text, words } of cases) {
      const answer = (await app.ok(a.token, EXTRACT, { t: text })).extractDemands;
      expect(answer.model).toBe(version.id);
      const expected = expectedEntities(weights, text, words);
      found += expected.length;
      expect(answer.entities.map((e: any) => ({ type: e.type, text: e.text, start: e.start, end: e.end }))).toEqual(
        expected.map(({ type, text: t, start, end }) => ({ type, text: t, start, end })),
      );
      answer.entities.forEach((e: any, i: number) => expect(e.confidence).toBeCloseTo(expected[i].confidence, 4));
    }
    // The random weights tag something: the comparison is not of two empty lists.
    expect(found).toBeGreaterThan(0);
    expect((await app.ok(b.token, EXTRACT, { t: cases[0].text })).extractDemands.model).toMatch(/^allied-default-ner-/);
  });

  it('splits texts longer than its window into windows and still answers in offsets of the whole text', async () => {
    const text = Array.from({ length: 300 }, () => 'python').join(' ');
    const answer = (await app.ok(a.token, EXTRACT, { t: text })).extractDemands;
    for (const e of answer.entities) expect(text.slice(e.start, e.end)).toBe(e.text);
    expect(answer.entities.length === 0 || answer.entities[answer.entities.length - 1].end > 512 * 2).toBe(true);
    expect(codes(await app.gql(a.token, EXTRACT, { t: 'x'.repeat(4001) }))).toEqual(['BAD_USER_INPUT']);
  });
});
