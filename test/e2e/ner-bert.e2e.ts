import { bertInterface, bertShapedGraph, H, LABELS, LABELS_JSON, randomWeights, VOCAB, type Weights } from '../support/bert';
import { Principal } from '../../src/tenancy/principal';
import { waitFor } from '../support/jobs';
import { codes, TestApp, type TestBrand } from '../support/server';

/**
 * A brand's own BERT-style token classifier: a tiny, randomly initialised
 * graph with BERT's inputs and output, built in the test
 * (test/support/bert.ts; no real weights exist on this machine), registered the way `allied model register` does, and
 * served by extractDemands. What it answers is checked against a
 * computation of the same forward pass and the same word-level decoding
 * written independently below.
 */

const EXTRACT = `query($t: String!) { extractDemands(text: $t) { model entities { type text start end confidence } } }`;

/**
 * The same graph with learned positions for at most `positions` tokens, as
 * BERT has (512): a longer input makes ONNX Runtime fail the call.
 */
function positionLimitedGraph(w: Weights, positions: number): Uint8Array {
  const g = bertInterface('tiny_bert_with_positions', w);
  g.initializer('position_embeddings', 'float32', [positions, H], Float32Array.from({ length: positions * H }, (_v, i) => ((i % 7) - 3) / 10));
  g.initializer('w2', 'float32', [H, LABELS.length], w.w2);
  g.initializer('zero', 'int64', [], BigInt64Array.of(0n));
  g.initializer('one', 'int64', [], BigInt64Array.of(1n));
  g.node('Shape', ['input_ids'], 'shape');
  g.node('Gather', ['shape', 'one'], 'length', { axis: 0 });
  g.node('Range', ['zero', 'length', 'one'], 'position_ids');
  g.node('Gather', ['position_embeddings', 'position_ids'], 'positions', { axis: 0 });
  g.node('Gather', ['word_embeddings', 'input_ids'], 'words', { axis: 0 });
  g.node('Add', ['words', 'positions'], 'embedded');
  g.node('MatMul', ['embedded', 'w2'], 'logits');
  return g.toBytes();
}

/**
 * A graph whose word embeddings stop at id `rows`: a text with a token of a
 * higher id makes ONNX Runtime fail the call (a model that cannot read some
 * texts, as a broken export can be).
 */
function partialVocabularyGraph(w: Weights, rows: number): Uint8Array {
  const g = bertInterface('tiny_bert_partial_vocabulary', w, rows);
  g.initializer('w2', 'float32', [H, LABELS.length], w.w2);
  g.node('Gather', ['word_embeddings', 'input_ids'], 'words', { axis: 0 });
  g.node('MatMul', ['words', 'w2'], 'logits');
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

  const register = (brand: TestBrand, input: Partial<{ onnx: Uint8Array; vocab: string; labels: string; maxTokens: number }>) =>
    app.server.app.runAs(Principal.system(brand.id, 'test register'), (ctx) =>
      app.server.app.services.models.registerBert(ctx, {
        onnx: input.onnx ?? bertShapedGraph(weights),
        vocab: input.vocab ?? `${VOCAB.join('\n')}\n`,
        labels: input.labels ?? LABELS_JSON,
        lowercase: true,
        maxTokens: input.maxTokens,
      }),
    );

  it('refuses what is not a token classifier over Allied types, storing nothing', async () => {
    await expect(register(a, { labels: JSON.stringify(['O', 'B-MISC']) })).rejects.toThrow('MISC is not one of');
    await expect(register(a, { vocab: 'need\na\n' })).rejects.toThrow('[UNK]');
    await expect(register(a, { onnx: new Uint8Array([1, 2, 3]) })).rejects.toThrow('does not load');
    await expect(register(a, { labels: JSON.stringify(['O', 'B-LOC']) })).rejects.toThrow('logits');
    // A graph that reads 16 positions cannot serve windows of 512 tokens: refused unless registered for its real limit.
    await expect(register(a, { onnx: positionLimitedGraph(weights, 16) })).rejects.toThrow('does not run as a token classifier');
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
      answer.entities.forEach((e: any, i: number) => expect(e.confidence).toBeCloseTo(expected[i].confidence, 3));
    }
    // The random weights tag something: the comparison is not of two empty lists.
    expect(found).toBeGreaterThan(0);
    expect((await app.ok(b.token, EXTRACT, { t: cases[0].text })).extractDemands.model).toMatch(/^allied-default-ner-/);
  });

  it('accepts a graph for the window it can read, and splits longer texts into windows of whole words', async () => {
    const limited = await register(b, { onnx: positionLimitedGraph(weights, 16), maxTokens: 15 });
    expect(limited.metrics).toMatchObject({ registered: 'bert' });
    const text = Array.from({ length: 12 }, () => 'beginner').join(' ');
    // Brand B was served the shipped model before: the change reaches this instance by signal (on PostgreSQL, NOTIFY).
    const answer = await waitFor('the registered model', async () => {
      const got = (await app.ok(b.token, EXTRACT, { t: text })).extractDemands;
      return got.model === limited.id ? got : null;
    });
    // 24 tokens (begin ##ner × 12) in windows of at most 13: cut before a word, never inside one.
    for (const e of answer.entities) expect(text.slice(e.start, e.end)).toMatch(/^beginner( beginner)*$/);
  });

  it('splits texts longer than its window into windows and still answers in offsets of the whole text', async () => {
    const text = Array.from({ length: 300 }, () => 'python').join(' ');
    const answer = (await app.ok(a.token, EXTRACT, { t: text })).extractDemands;
    for (const e of answer.entities) expect(text.slice(e.start, e.end)).toBe(e.text);
    expect(answer.entities.length === 0 || answer.entities[answer.entities.length - 1].end > 512 * 2).toBe(true);
    expect(codes(await app.gql(a.token, EXTRACT, { t: 'x'.repeat(4001) }))).toEqual(['BAD_USER_INPUT']);
  });

  it('retries a feedback text the model cannot read alone, records it as failed with the reason, and extracts the rest of its batch', async () => {
    // The probe texts' tokens are all below id 15; 琴, 周, 末, in and beijing are not.
    const partial = await register(b, { onnx: partialVocabularyGraph(weights, 15) });
    await waitFor('the partial model served', async () => (await app.ok(b.token, EXTRACT, { t: 'need a course' })).extractDemands.model === partial.id);
    const long = '想学古琴，周末 in beijing';
    const RECORD = `mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted } }`;
    await app.ok(b.token, RECORD, {
      e: [
        { type: 'FEEDBACK', idempotencyKey: 'short', learnerExternalId: 'l1', text: 'need a python course', occurredAt: new Date().toISOString() },
        { type: 'FEEDBACK', idempotencyKey: 'poison', learnerExternalId: 'l2', text: long, occurredAt: new Date().toISOString() },
      ],
    });
    const ids = Object.fromEntries(
      (await app.sql(`select idempotency_key, id from events where tenant_id = $1 and type = 'FEEDBACK'`, [b.id])).map((r: any) => [r.idempotency_key, r.id]),
    );
    const state = async (key: string) => (await app.sql(`select state, attempts, last_error from jobs where tenant_id = $1 and idempotency_key = $2`, [b.id, `single:${ids[key]}`]))[0];
    const deadline = Date.now() + 60_000;
    while ((await state('poison'))?.state !== 'DEAD' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await state('short')).toMatchObject({ state: 'DONE' });
    const poison = await state('poison');
    expect(poison).toMatchObject({ state: 'DEAD', attempts: 3 });
    expect(poison.last_error).toContain('Non-zero status code returned while running');
    // The batch that held both finished: nothing waits behind the poison text.
    const batches = await app.sql(`select state from jobs where tenant_id = $1 and kind = 'demands.extract' and idempotency_key is null`, [b.id]);
    expect(batches.map((j: any) => j.state)).toEqual(['DONE']);
  }, 90_000);
});
