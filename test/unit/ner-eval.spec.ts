import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  EVAL_LANGS,
  EVAL_SET_FILE,
  evaluate,
  loadEvalSet,
  matchSpans,
  parseEvalSet,
  unseenTopicRecall,
  type Score,
} from '../../src/ml/ner/eval';
import { bioToSpans, DEMAND_TYPES, spansToBio, type AnnotatedText, type DemandType, type Span } from '../../src/ml/ner/types';

/**
 * Allied's demand-extraction evaluation set and its metrics. Conventions
 * under test: a ratio with a zero denominator is 1 (precision with nothing
 * predicted, recall with nothing to find); F1 is 0 when P + R is 0.
 */

const span = (type: DemandType, start: number, end: number): Span => ({ type, start, end });
const sentence = (text: string, ...entities: Span[]): AnnotatedText => ({ text, entities });

/** Precision, recall, F1 and counts, with the ratios compared to 10 decimals. */
function expectScore(actual: Score, expected: { p: number; r: number; f1: number; gold: number; predicted: number; matched: number }) {
  expect(actual.precision).toBeCloseTo(expected.p, 10);
  expect(actual.recall).toBeCloseTo(expected.r, 10);
  expect(actual.f1).toBeCloseTo(expected.f1, 10);
  expect({ gold: actual.gold, predicted: actual.predicted, matched: actual.matched }).toEqual({
    gold: expected.gold,
    predicted: expected.predicted,
    matched: expected.matched,
  });
}

describe('the evaluation set', () => {
  const set = loadEvalSet();
  const raw = fs
    .readFileSync(EVAL_SET_FILE, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { id: string; entities: Array<{ type: string; text: string }> });

  it('has at least 300 sentences in every language, with unique ids', () => {
    expect(set.length).toBeGreaterThanOrEqual(300);
    expect(set.length).toBe(raw.length);
    for (const lang of EVAL_LANGS) expect(set.filter((s) => s.lang === lang).length).toBeGreaterThanOrEqual(90);
    expect(new Set(set.map((s) => s.id)).size).toBe(set.length);
  });

  it('places every entity on its text, in order, without overlaps', () => {
    set.forEach((s, i) => {
      expect(s.id).toBe(raw[i].id);
      expect(s.entities.map((e) => [e.type, e.text])).toEqual(raw[i].entities.map((e) => [e.type, e.text]));
      let previousEnd = 0;
      for (const e of s.entities) {
        expect(Number.isInteger(e.start) && Number.isInteger(e.end)).toBe(true);
        expect(e.start).toBeGreaterThanOrEqual(previousEnd);
        expect(e.end).toBeGreaterThan(e.start);
        expect(e.end).toBeLessThanOrEqual(s.text.length);
        expect(s.text.slice(e.start, e.end)).toBe(e.text);
        previousEnd = e.end;
      }
    });
  });

  it('never cuts a Latin word or number in two', () => {
    const word = /[A-Za-z0-9]/;
    const cuts = set.flatMap((s) =>
      s.entities
        .filter(
          (e) =>
            (word.test(s.text[e.start - 1] ?? '') && word.test(s.text[e.start])) ||
            (word.test(s.text[e.end] ?? '') && word.test(s.text[e.end - 1])),
        )
        .map((e) => `${s.id}: ${e.text}`),
    );
    expect(cuts).toEqual([]);
  });

  it('round-trips through BIO labels of one label per UTF-16 code unit', () => {
    for (const s of set) {
      const labels = spansToBio(s.text, s.entities);
      expect(labels.length).toBe(s.text.length);
      expect(bioToSpans(labels)).toEqual(s.entities.map(({ type, start, end }) => ({ type, start, end })));
    }
  });

  it('covers every type, sentences without entities, and characters outside the BMP', () => {
    const types = new Set(set.flatMap((s) => s.entities.map((e) => e.type)));
    expect([...types].sort()).toEqual([...DEMAND_TYPES].sort());
    const empty = set.filter((s) => s.entities.length === 0).length;
    expect(empty / set.length).toBeGreaterThan(0.05);
    expect(empty / set.length).toBeLessThan(0.2);
    // An entity after an astral emoji: its offset counts the emoji as two code units.
    const astral = set.filter((s) => s.entities.some((e) => /[\u{10000}-\u{10FFFF}]/u.test(s.text.slice(0, e.start))));
    expect(astral.length).toBeGreaterThan(0);
    for (const s of astral) {
      const last = s.entities[s.entities.length - 1];
      expect([...s.text.slice(0, last.start)].length).toBeLessThan(last.start);
    }
  });
});

describe('parseEvalSet', () => {
  const line = (o: object) => JSON.stringify(o);

  it('counts occurrences of the surface text, including inside other words', () => {
    const [s] = parseEvalSet(
      line({
        id: 'x',
        lang: 'mixed',
        text: '学了Java想转JavaScript😂，还是先把Java学好',
        entities: [
          { type: 'TOPIC', text: 'Java' },
          { type: 'TOPIC', text: 'JavaScript' },
          { type: 'TOPIC', text: 'Java', occurrence: 3 },
        ],
      }),
    );
    expect(s.entities.map(({ start, end }) => [start, end])).toEqual([
      [2, 6],
      [8, 18],
      [25, 29],
    ]);
  });

  it('names the line and the sentence when an entity is not found', () => {
    const jsonl = [
      line({ id: 'a', lang: 'en', text: 'yoga on weekends', entities: [{ type: 'TOPIC', text: 'yoga' }] }),
      '',
      line({ id: 'b', lang: 'zh', text: '想学古琴', entities: [{ type: 'TOPIC', text: '古筝' }] }),
    ].join('\n');
    expect(() => parseEvalSet(jsonl, 'feedback.jsonl')).toThrow(/^feedback\.jsonl line 3 \(b\): entity 1 "古筝" \(TOPIC\) not found/);
  });

  it('names the line when an occurrence is missing', () => {
    const jsonl = line({ id: 'c', lang: 'en', text: 'Python, Python', entities: [{ type: 'TOPIC', text: 'Python', occurrence: 3 }] });
    expect(() => parseEvalSet(jsonl)).toThrow(/line 1 \(c\): .*occurrence 3 missing: the text has only 2/);
  });

  it('rejects overlapping or out-of-order entities, unknown types and languages, and duplicate ids', () => {
    const text = 'Python on weekends';
    const bad = (o: object) => () => parseEvalSet(line({ id: 'd', lang: 'en', text, entities: [], ...o }));
    expect(bad({ entities: [{ type: 'TIME', text: 'weekends' }, { type: 'TOPIC', text: 'Python' }] })).toThrow(/order of appearance/);
    expect(bad({ entities: [{ type: 'TIME', text: 'on weekends' }, { type: 'TIME', text: 'weekends' }] })).toThrow(/overlaps/);
    expect(bad({ entities: [{ type: 'SKILL', text: 'Python' }] })).toThrow(/unknown type "SKILL"/);
    expect(bad({ lang: 'fr' })).toThrow(/"lang" must be one of/);
    const twice = [line({ id: 'e', lang: 'en', text, entities: [] }), line({ id: 'e', lang: 'en', text, entities: [] })].join('\n');
    expect(() => parseEvalSet(twice)).toThrow(/line 2 \(e\): duplicate id, first used on line 1/);
    expect(() => parseEvalSet('{"id": "f", ')).toThrow(/line 1: not valid JSON/);
  });

  it('is what loadEvalSet reads from a file, with the file named in errors', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'allied-ner-eval-'));
    const file = path.join(dir, 'eval.jsonl');
    try {
      fs.writeFileSync(file, line({ id: 'g', lang: 'zh', text: '周末想学茶艺', entities: [{ type: 'TIME', text: '周末' }, { type: 'TOPIC', text: '茶艺' }] }) + '\n');
      expect(loadEvalSet(file)).toEqual([
        { id: 'g', lang: 'zh', text: '周末想学茶艺', entities: [{ type: 'TIME', start: 0, end: 2, text: '周末' }, { type: 'TOPIC', start: 4, end: 6, text: '茶艺' }] },
      ]);
      fs.writeFileSync(file, line({ id: 'h', lang: 'zh', text: '周末想学茶艺', entities: [{ type: 'TOPIC', text: '书法' }] }));
      expect(() => loadEvalSet(file)).toThrow(`${file} line 1 (h)`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('evaluate', () => {
  it('scores a partial overlap, an exact match and a spurious span, strictly and leniently', () => {
    // gold: TOPIC [0,4) and TIME [5,8); predicted: TOPIC [0,3) (partial), TIME [5,8) (exact), LOC [9,10) (spurious).
    const gold = [sentence('abcd efg hij', span('TOPIC', 0, 4), span('TIME', 5, 8))];
    const predicted = [[span('TOPIC', 0, 3), span('TIME', 5, 8), span('LOC', 9, 10)]];
    const { strict, lenient, sentences } = evaluate(gold, predicted);
    expect(sentences).toBe(1);
    // Strict: 1 of 3 predicted, 1 of 2 gold: F1 = 2·(1/3)·(1/2) / (1/3 + 1/2) = 0.4.
    expectScore(strict.micro, { p: 1 / 3, r: 1 / 2, f1: 0.4, gold: 2, predicted: 3, matched: 1 });
    // Lenient: 2 of 3, 2 of 2: F1 = 2·(2/3)·1 / (2/3 + 1) = 0.8.
    expectScore(lenient.micro, { p: 2 / 3, r: 1, f1: 0.8, gold: 2, predicted: 3, matched: 2 });
    expectScore(strict.perType.TOPIC, { p: 0, r: 0, f1: 0, gold: 1, predicted: 1, matched: 0 });
    expectScore(lenient.perType.TOPIC, { p: 1, r: 1, f1: 1, gold: 1, predicted: 1, matched: 1 });
    expectScore(strict.perType.TIME, { p: 1, r: 1, f1: 1, gold: 1, predicted: 1, matched: 1 });
    // LOC: predicted but no gold: precision 0, recall 0/0 = 1, F1 0.
    expectScore(strict.perType.LOC, { p: 0, r: 1, f1: 0, gold: 0, predicted: 1, matched: 0 });
    // A type neither annotated nor predicted: 0/0 both ways, a perfect 1.
    expectScore(lenient.perType.BUDGET, { p: 1, r: 1, f1: 1, gold: 0, predicted: 0, matched: 0 });
  });

  it('never matches across types, even on the same characters', () => {
    const { strict, lenient } = evaluate([sentence('Coursera', span('ORG', 0, 8))], [[span('TOPIC', 0, 8)]]);
    for (const mode of [strict, lenient]) {
      expectScore(mode.micro, { p: 0, r: 0, f1: 0, gold: 1, predicted: 1, matched: 0 });
      // ORG found nothing predicted as ORG: precision 0/0 = 1, recall 0.
      expectScore(mode.perType.ORG, { p: 1, r: 0, f1: 0, gold: 1, predicted: 0, matched: 0 });
      expectScore(mode.perType.TOPIC, { p: 0, r: 1, f1: 0, gold: 0, predicted: 1, matched: 0 });
    }
  });

  it('matches a duplicated prediction (or a duplicated gold span) only once', () => {
    const twicePredicted = evaluate([sentence('yoga', span('TOPIC', 0, 4))], [[span('TOPIC', 0, 4), span('TOPIC', 0, 4)]]);
    expectScore(twicePredicted.strict.micro, { p: 0.5, r: 1, f1: 2 / 3, gold: 1, predicted: 2, matched: 1 });
    expectScore(twicePredicted.lenient.micro, { p: 0.5, r: 1, f1: 2 / 3, gold: 1, predicted: 2, matched: 1 });
    const twiceGold = evaluate([sentence('yoga', span('TOPIC', 0, 4), span('TOPIC', 0, 4))], [[span('TOPIC', 0, 4)]]);
    expectScore(twiceGold.strict.micro, { p: 1, r: 0.5, f1: 2 / 3, gold: 2, predicted: 1, matched: 1 });
  });

  it('pairs leniently one to one, largest overlap first', () => {
    // One prediction over two gold spans: it takes the one it overlaps most ([4,10) by 4, not [0,4) by 2).
    expect(matchSpans([span('TOPIC', 0, 4), span('TOPIC', 4, 10)], [span('TOPIC', 2, 8)], 'lenient')).toEqual([[1, 0]]);
    // Two predictions inside one gold span: the larger overlap wins, the other is a false positive.
    const inside = evaluate([sentence('x'.repeat(10), span('TOPIC', 0, 10))], [[span('TOPIC', 0, 3), span('TOPIC', 5, 10)]]);
    expectScore(inside.lenient.micro, { p: 0.5, r: 1, f1: 2 / 3, gold: 1, predicted: 2, matched: 1 });
    expect(matchSpans([span('TOPIC', 0, 10)], [span('TOPIC', 0, 3), span('TOPIC', 5, 10)], 'lenient')).toEqual([[0, 1]]);
    // Greedy by overlap, not by position: p1 takes g1 (overlap 4) first, leaving g0 to p0 (overlap 2, tied with g1).
    expect(
      matchSpans([span('TIME', 0, 4), span('TIME', 6, 10)], [span('TIME', 2, 8), span('TIME', 6, 10)], 'lenient'),
    ).toEqual([
      [0, 0],
      [1, 1],
    ]);
    // Touching is not overlapping (ends are exclusive), and empty spans never match.
    expect(matchSpans([span('LOC', 0, 4)], [span('LOC', 4, 6)], 'lenient')).toEqual([]);
    expect(matchSpans([span('LOC', 2, 2)], [span('LOC', 2, 2)], 'strict')).toEqual([]);
  });

  it('defines empty predictions and empty gold by the 0/0 convention', () => {
    const gold = [sentence('想学Python，周末', span('TOPIC', 2, 8), span('TIME', 9, 11))];
    // Nothing predicted: precision 0/0 = 1, recall 0, F1 0.
    expectScore(evaluate(gold, [[]]).strict.micro, { p: 1, r: 0, f1: 0, gold: 2, predicted: 0, matched: 0 });
    // Nothing to find, something predicted: precision 0, recall 0/0 = 1, F1 0.
    const spurious = evaluate([sentence('谢谢老师')], [[span('PERSON', 2, 4)]]);
    expectScore(spurious.lenient.micro, { p: 0, r: 1, f1: 0, gold: 0, predicted: 1, matched: 0 });
    // Nothing to find and nothing predicted, and an empty set: perfect.
    expectScore(evaluate([sentence('谢谢老师')], [[]]).strict.micro, { p: 1, r: 1, f1: 1, gold: 0, predicted: 0, matched: 0 });
    expectScore(evaluate([], []).lenient.micro, { p: 1, r: 1, f1: 1, gold: 0, predicted: 0, matched: 0 });
  });

  it('pools counts over sentences for the micro average', () => {
    const gold = [
      sentence('Python on weekends', span('TOPIC', 0, 6), span('TIME', 10, 18)),
      sentence('under $50', span('BUDGET', 0, 9)),
      sentence('thanks!'),
    ];
    const predicted = [[span('TOPIC', 0, 6)], [span('BUDGET', 6, 9)], [span('TOPIC', 0, 6)]];
    const { strict, lenient } = evaluate(gold, predicted);
    expectScore(strict.micro, { p: 1 / 3, r: 1 / 3, f1: 1 / 3, gold: 3, predicted: 3, matched: 1 });
    expectScore(lenient.micro, { p: 2 / 3, r: 2 / 3, f1: 2 / 3, gold: 3, predicted: 3, matched: 2 });
    expectScore(lenient.perType.TOPIC, { p: 0.5, r: 1, f1: 2 / 3, gold: 1, predicted: 2, matched: 1 });
  });

  it('refuses predictions that do not line up with the gold sentences', () => {
    expect(() => evaluate([sentence('a'), sentence('b')], [[]])).toThrow(/2 gold sentences but 1 predictions/);
  });
});

describe('unseenTopicRecall', () => {
  const gold = [
    sentence('想学Python和古琴', span('TOPIC', 2, 8), span('TOPIC', 9, 11)),
    sentence('beekeeping or Data Visualization', span('TOPIC', 0, 10), span('TOPIC', 14, 32)),
    sentence('weekends only', span('TIME', 0, 8)),
  ];
  const known = ['PYTHON', '  data visualization ', 'yoga'];

  it('measures recall on the gold topics the vocabulary does not know', () => {
    const predicted = [
      [span('TOPIC', 2, 8), span('TOPIC', 9, 10)], // Python (known) exact, 古琴 only in part.
      [span('TOPIC', 0, 10), span('TIME', 14, 32)], // beekeeping exact; Data Visualization with the wrong type.
      [span('TOPIC', 0, 8)],
    ];
    const report = unseenTopicRecall(gold, predicted, known);
    expect(report).toEqual({
      topics: 4,
      unseen: 2, // 古琴 and beekeeping; Python and Data Visualization are known whatever their case and spaces.
      unseenShare: 0.5,
      strict: { matched: 1, recall: 0.5 },
      lenient: { matched: 2, recall: 1 },
    });
  });

  it('counts a prediction once even where it overlaps a known and an unseen topic', () => {
    // One TOPIC span over "Python和古琴" overlaps Python by 6 and 古琴 by 2: it goes to Python.
    const report = unseenTopicRecall(gold, [[span('TOPIC', 2, 11)], [], []], known);
    expect(report.lenient).toEqual({ matched: 0, recall: 0 });
  });

  it('reads 0/0 as full recall and reports no share without topics', () => {
    expect(unseenTopicRecall(gold, [[], [], []], ['python', '古琴', 'beekeeping', 'data visualization'])).toEqual({
      topics: 4,
      unseen: 0,
      unseenShare: 0,
      strict: { matched: 0, recall: 1 },
      lenient: { matched: 0, recall: 1 },
    });
    expect(unseenTopicRecall([sentence('谢谢')], [[]], []).unseenShare).toBe(0);
  });
});
