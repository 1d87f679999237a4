import fc from 'fast-check';
import { decodeTags, LABELS, taggerForward, taggerGraph, type TaggerWeights } from '../../src/ml/ner/tagger';
import { beginOf, bioToSpans, insideOf, spansToBio } from '../../src/ml/ner/types';
import { buildVocabulary, encodeInto, foldUnit, UNKNOWN } from '../../src/ml/ner/vocab';
import { ModelRuntime } from '../../src/ml/runtime/runtime';
import { Random } from '../../src/ml/train/random';

/** The character tagger: folding and vocabulary, BIO round trips, the ONNX graph against TypeScript, constrained decoding. */

function randomWeights(seed: number, vocabularySize: number, dim: number, layers: { outputs: number; dilation: number }[]): TaggerWeights {
  const random = new Random(seed);
  const fill = (n: number) => Float32Array.from({ length: n }, () => random.normal() * 0.5);
  let inputs = dim;
  return {
    units: Array.from({ length: vocabularySize }, (_x, i) => String.fromCharCode(0x4e00 + i)),
    dim,
    embedding: fill(vocabularySize * dim),
    layers: layers.map(({ outputs, dilation }) => {
      const layer = { inputs, outputs, dilation, W: fill(3 * inputs * outputs), b: fill(outputs) };
      inputs = outputs;
      return layer;
    }),
    outW: fill(inputs * LABELS),
    outB: fill(LABELS),
  };
}

describe('the character vocabulary', () => {
  it('folds full-width forms, case and digits, one UTF-16 unit at a time', () => {
    expect([...'ＡＢＣ１２３ab 9　'].map(foldUnit).join('')).toBe('abc000ab 0 ');
    expect(foldUnit('文')).toBe('文');
    const vocab = buildVocabulary(['ab文文', 'AB文', 'x'], 2);
    expect(vocab.units.slice(0, 2)).toEqual(['<pad>', '<unk>']);
    expect(vocab.units.slice(2)).toEqual(['文', 'a', 'b']);
    const out = new Int32Array(4);
    encodeInto('Ab文z', vocab, out, 0);
    expect(Array.from(out)).toEqual([3, 4, 2, UNKNOWN]);
  });
});

describe('BIO labels', () => {
  it('round-trips spans, and reads a stray I as the start of its own span', () => {
    const spans = [
      { type: 'TOPIC' as const, start: 2, end: 6 },
      { type: 'BUDGET' as const, start: 7, end: 12 },
    ];
    expect(bioToSpans(spansToBio('想找经典文学，200元以内', spans))).toEqual(spans);
    const labels = [0, insideOf('TIME'), insideOf('TIME'), beginOf('TIME'), insideOf('LOC')];
    expect(bioToSpans(labels)).toEqual([
      { type: 'TIME', start: 1, end: 3 },
      { type: 'TIME', start: 3, end: 4 },
      { type: 'LOC', start: 4, end: 5 },
    ]);
  });
});

describe('the tagger graph', () => {
  let runtime: ModelRuntime;
  beforeAll(async () => {
    runtime = await ModelRuntime.open('cpu');
  });

  it('gives the logits TypeScript computes, for random weights and batches of texts of different lengths', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.integer({ min: 1, max: 1e6 }),
          vocabularySize: fc.integer({ min: 2, max: 40 }),
          dim: fc.integer({ min: 1, max: 8 }),
          layers: fc.array(fc.record({ outputs: fc.integer({ min: 1, max: 8 }), dilation: fc.integer({ min: 1, max: 4 }) }), { maxLength: 3 }),
          lengths: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 4 }),
        }),
        async ({ seed, vocabularySize, dim, layers, lengths }) => {
          const weights = randomWeights(seed, vocabularySize, dim, layers);
          const random = new Random(seed + 1);
          const T = Math.max(...lengths);
          const ids = new Int32Array(lengths.length * T);
          const mask = new Float32Array(lengths.length * T);
          const texts = lengths.map((n, b) => {
            const text = Int32Array.from({ length: n }, () => random.int(vocabularySize));
            ids.set(text, b * T);
            mask.fill(1, b * T, b * T + n);
            return text;
          });
          const session = await runtime.load(taggerGraph(weights));
          try {
            const out = await session.run({ ids: { data: ids, dims: [lengths.length, T] }, mask: { data: mask, dims: [lengths.length, 1, T] } });
            expect(out.logits.dims).toEqual([lengths.length, T, LABELS]);
            texts.forEach((text, b) => {
              const want = taggerForward(weights, text);
              for (let i = 0; i < want.length; i++) {
                const got = out.logits.data[b * T * LABELS + i] as number;
                expect(Math.abs(got - want[i])).toBeLessThan(1e-3 * Math.max(1, Math.abs(want[i])));
              }
            });
          } finally {
            await session.release();
          }
        },
      ),
      { numRuns: 30, seed: 20261202 },
    );
  });
});

describe('constrained decoding', () => {
  const logitsOf = (rows: number[][]) => Float32Array.from(rows.flatMap((r) => r));
  const one = (label: number, strength = 5) => Array.from({ length: LABELS }, (_x, k) => (k === label ? strength : 0));

  it('never starts a span with I, and keeps the best allowed sequence', () => {
    // The unconstrained best would be I-TOPIC at position 0; B-TOPIC is the best allowed start.
    const first = one(insideOf('TOPIC'), 5);
    first[beginOf('TOPIC')] = 4;
    const spans = decodeTags(logitsOf([first, one(insideOf('TOPIC')), one(0)]), 3);
    expect(spans.map(({ type, start, end }) => ({ type, start, end }))).toEqual([{ type: 'TOPIC', start: 0, end: 2 }]);
    expect(spans[0].confidence).toBeGreaterThan(0.2);
    expect(spans[0].confidence).toBeLessThan(1);
  });

  it('does not let I-LOC continue a TOPIC span', () => {
    const spans = decodeTags(logitsOf([one(beginOf('TOPIC')), one(insideOf('LOC'), 3), one(0)]), 3);
    for (const s of spans) expect(s.type === 'LOC' ? s.start : 0).not.toBe(1);
    expect(spans[0]).toMatchObject({ type: 'TOPIC', start: 0 });
  });

  it('decodes nothing from an empty text', () => {
    expect(decodeTags(new Float32Array(0), 0)).toEqual([]);
  });
});
