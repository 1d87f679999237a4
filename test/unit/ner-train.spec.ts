import { decodeTags, taggerForward } from '../../src/ml/ner/tagger';
import { trainTagger } from '../../src/ml/ner/train-tagger';
import type { AnnotatedText, DemandType } from '../../src/ml/ner/types';
import { encodeInto, vocabulary } from '../../src/ml/ner/vocab';
import { TrainerPool } from '../../src/ml/train/pool';
import { Random } from '../../src/ml/train/random';

/** The tagger's trainer (TensorFlow.js on wasm): it learns a planted tagging task, deterministically, in a worker too. */

const TOPICS = ['python', 'yoga', 'guitar', 'chess', 'french', 'excel', '书法', '经典文学', '数据分析', '围棋'];
const TIMES = ['weekends', 'evenings', 'mornings', '周末', '晚上', '每天早上'];
const TEMPLATES = ['i want to learn {T} on {W}', 'looking for a {T} course for {W}', '想学{T}，{W}有空', '有没有{T}的课，最好{W}', 'any {T} class? {W} only', '{W}想听{T}'];

function sentence(random: Random): AnnotatedText {
  const template = TEMPLATES[random.int(TEMPLATES.length)];
  const fill: Record<string, [DemandType, string]> = { '{T}': ['TOPIC', TOPICS[random.int(TOPICS.length)]], '{W}': ['TIME', TIMES[random.int(TIMES.length)]] };
  let text = '';
  const entities: AnnotatedText['entities'] = [];
  for (const part of template.split(/(\{T\}|\{W\})/)) {
    const slot = fill[part];
    if (slot) entities.push({ type: slot[0], start: text.length, end: text.length + slot[1].length });
    text += slot ? slot[1] : part;
  }
  return { text, entities };
}

const OPTIONS = { epochs: 25, batchUnits: 1024, learningRate: 0.01, dim: 16, layers: [{ outputs: 32, dilation: 1 }, { outputs: 32, dilation: 2 }] };

describe('the tagger trainer', () => {
  const random = new Random(11);
  const train = Array.from({ length: 300 }, () => sentence(random));
  const heldOut = Array.from({ length: 60 }, () => sentence(random));

  it('learns a planted tagging task: exact spans on held-out sentences, the loss falling', async () => {
    const result = await trainTagger(train, OPTIONS);
    expect(result.losses[result.losses.length - 1]).toBeLessThan(result.losses[0] / 5);
    const vocab = vocabulary(result.weights.units);
    let exact = 0;
    let gold = 0;
    for (const s of heldOut) {
      const ids = new Int32Array(s.text.length);
      encodeInto(s.text, vocab, ids, 0);
      const predicted = decodeTags(taggerForward(result.weights, ids), ids.length);
      for (const g of s.entities) {
        gold++;
        if (predicted.some((p) => p.type === g.type && p.start === g.start && p.end === g.end)) exact++;
      }
    }
    expect(exact / gold).toBeGreaterThan(0.9);
  }, 120_000);

  it('gives the same weights for the same corpus and seed, in a worker thread as in-process', async () => {
    const small = train.slice(0, 60);
    const options = { ...OPTIONS, epochs: 2 };
    const here = await trainTagger(small, options);
    const pool = new TrainerPool({ concurrency: 1 });
    try {
      const there = await pool.run({ kind: 'ner', corpus: small, options });
      expect(there.weights.units).toEqual(here.weights.units);
      expect(Array.from(there.weights.outW)).toEqual(Array.from(here.weights.outW));
      expect(there.losses).toEqual(here.losses);
    } finally {
      await pool.close();
    }
  }, 120_000);
});
