/**
 * Evaluation of demand extraction against Allied's hand-annotated feedback
 * set (test/fixtures/ner-eval): loading it with UTF-16 offsets, strict and
 * lenient precision / recall / F1 per entity type and micro-averaged, and
 * the recall on topics that a given vocabulary does not know (how well a
 * tagger finds what learners ask for beyond the catalog).
 *
 * Ratios whose denominator is zero are 1: precision with nothing predicted
 * (no false positive was made), recall with nothing to find (nothing was
 * missed). F1 is 2PR / (P + R), and 0 when P + R is 0, so a type scores an
 * F1 of 1 only when gold and predictions agree, including both being empty.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEMAND_TYPES, type AnnotatedText, type DemandType, type Span } from './types';
import { packageRoot } from '../../package-root';

export const EVAL_LANGS = ['zh', 'en', 'mixed'] as const;
export type EvalLang = (typeof EVAL_LANGS)[number];

/** A gold entity: its span and the surface text it was annotated with. */
export interface GoldSpan extends Span {
  text: string;
}

/** One learner sentence of the evaluation set. */
export interface EvalSentence extends AnnotatedText {
  id: string;
  lang: EvalLang;
  entities: GoldSpan[];
}

/** The nearest folder above `dir` with a package.json (src/ml/ner under ts-jest, dist/src/ml/ner compiled). */
export const EVAL_SET_FILE = path.join(packageRoot(), 'test', 'fixtures', 'ner-eval', 'eval.jsonl');

/** Reads the evaluation set (one JSON object a line; blank lines are skipped). */
export function loadEvalSet(file: string = EVAL_SET_FILE): EvalSentence[] {
  return parseEvalSet(fs.readFileSync(file, 'utf8'), file);
}

/**
 * Parses evaluation JSONL. Each entity is located by its text: the
 * `occurrence`-th (1-based, default 1) place where that text occurs in the
 * sentence, counting every occurrence, also those inside other words.
 * Entities must come in order of appearance and must not overlap. Any
 * problem throws an error naming the source, the line and the sentence id.
 */
export function parseEvalSet(jsonl: string, source = 'eval set'): EvalSentence[] {
  const sentences: EvalSentence[] = [];
  const lineOf = new Map<string, number>();
  jsonl.split(/\r?\n/).forEach((raw, index) => {
    if (raw.trim() === '') return;
    const line = index + 1;
    const fail = (message: string): never => {
      throw new Error(`${source} line ${line}: ${message}`);
    };
    let record: unknown;
    try {
      record = JSON.parse(raw);
    } catch (error) {
      fail(`not valid JSON (${(error as Error).message})`);
    }
    const { id, lang, text, entities } = (record ?? {}) as Record<string, unknown>;
    if (typeof id !== 'string' || id === '') fail('"id" must be a non-empty string');
    const where = `line ${line} (${id as string})`;
    const failAt = (message: string): never => {
      throw new Error(`${source} ${where}: ${message}`);
    };
    const previous = lineOf.get(id as string);
    if (previous !== undefined) failAt(`duplicate id, first used on line ${previous}`);
    if (!EVAL_LANGS.includes(lang as EvalLang)) failAt(`"lang" must be one of ${EVAL_LANGS.join(', ')}, got ${JSON.stringify(lang)}`);
    if (typeof text !== 'string' || text === '') failAt('"text" must be a non-empty string');
    if (!Array.isArray(entities)) failAt('"entities" must be an array');
    const sentence = text as string;
    const spans: GoldSpan[] = [];
    for (const [k, entity] of (entities as unknown[]).entries()) {
      const { type, text: surface, occurrence = 1 } = (entity ?? {}) as Record<string, unknown>;
      const label = `entity ${k + 1} ${JSON.stringify(surface)}`;
      if (!DEMAND_TYPES.includes(type as DemandType)) failAt(`${label} has unknown type ${JSON.stringify(type)}`);
      if (typeof surface !== 'string' || surface === '') failAt(`${label} must have a non-empty "text"`);
      if (!Number.isInteger(occurrence) || (occurrence as number) < 1) failAt(`${label} has invalid occurrence ${JSON.stringify(occurrence)}`);
      const target = surface as string;
      let start = -1;
      let seen = 0;
      while (seen < (occurrence as number)) {
        start = sentence.indexOf(target, start + 1);
        if (start < 0) break;
        seen++;
      }
      if (start < 0) {
        failAt(
          seen === 0
            ? `${label} (${type as string}) not found in text ${JSON.stringify(sentence)}`
            : `${label} (${type as string}) occurrence ${occurrence as number} missing: the text has only ${seen}`,
        );
      }
      const span: GoldSpan = { type: type as DemandType, start, end: start + target.length, text: target };
      const last = spans[spans.length - 1];
      if (last && span.start < last.end) {
        failAt(
          span.start < last.start
            ? `${label} comes before ${JSON.stringify(last.text)}: list entities in order of appearance (or set "occurrence")`
            : `${label} overlaps ${JSON.stringify(last.text)}`,
        );
      }
      spans.push(span);
    }
    lineOf.set(id as string, line);
    sentences.push({ id: id as string, lang: lang as EvalLang, text: sentence, entities: spans });
  });
  return sentences;
}

/** Strict: same type, start and end. Lenient: same type and at least one shared code unit. */
export type MatchMode = 'strict' | 'lenient';

const overlap = (a: Span, b: Span) => Math.min(a.end, b.end) - Math.max(a.start, b.start);

/**
 * A one-to-one matching of gold to predicted spans of one sentence, as
 * [gold index, predicted index] pairs. Lenient pairs are taken greedily by
 * overlap, largest first (ties: earlier gold, then earlier prediction);
 * strict pairs are identical spans, so a duplicated prediction matches once.
 * Spans with end <= start never match.
 */
export function matchSpans(gold: readonly Span[], predicted: readonly Span[], mode: MatchMode): Array<[number, number]> {
  const candidates: Array<{ g: number; p: number; size: number }> = [];
  gold.forEach((g, gi) =>
    predicted.forEach((p, pi) => {
      if (g.type !== p.type || g.start >= g.end || p.start >= p.end) return;
      if (mode === 'strict' ? g.start === p.start && g.end === p.end : overlap(g, p) > 0) {
        candidates.push({ g: gi, p: pi, size: overlap(g, p) });
      }
    }),
  );
  candidates.sort((a, b) => b.size - a.size || a.g - b.g || a.p - b.p);
  const goldTaken = new Set<number>();
  const predTaken = new Set<number>();
  const pairs: Array<[number, number]> = [];
  for (const { g, p } of candidates) {
    if (goldTaken.has(g) || predTaken.has(p)) continue;
    goldTaken.add(g);
    predTaken.add(p);
    pairs.push([g, p]);
  }
  return pairs.sort((a, b) => a[0] - b[0]);
}

/** Counts and ratios for one entity type, or for all of them pooled (micro). */
export interface Score {
  precision: number;
  recall: number;
  f1: number;
  /** Gold spans (the support). */
  gold: number;
  predicted: number;
  /** Matched pairs (true positives). */
  matched: number;
}

export interface ModeScores {
  micro: Score;
  perType: Record<DemandType, Score>;
}

export interface Evaluation {
  sentences: number;
  strict: ModeScores;
  lenient: ModeScores;
}

/** A ratio with 0/0 read as 1 (see the top of this file). */
const ratio = (num: number, den: number) => (den === 0 ? 1 : num / den);

export function score(matched: number, gold: number, predicted: number): Score {
  const precision = ratio(matched, predicted);
  const recall = ratio(matched, gold);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, gold, predicted, matched };
}

function checkAligned(gold: readonly AnnotatedText[], predicted: readonly (readonly Span[])[]) {
  if (gold.length !== predicted.length) {
    throw new Error(`evaluate: ${gold.length} gold sentences but ${predicted.length} predictions`);
  }
}

/** Scores predictions (one span list per gold sentence, same order) strictly and leniently. */
export function evaluate(gold: readonly AnnotatedText[], predicted: readonly (readonly Span[])[]): Evaluation {
  checkAligned(gold, predicted);
  const modeScores = (mode: MatchMode): ModeScores => {
    const zero = () => ({ gold: 0, predicted: 0, matched: 0 });
    const counts = Object.fromEntries(DEMAND_TYPES.map((t) => [t, zero()])) as Record<DemandType, ReturnType<typeof zero>>;
    gold.forEach((sentence, i) => {
      for (const s of sentence.entities) counts[s.type].gold++;
      for (const s of predicted[i]) counts[s.type].predicted++;
      for (const [g] of matchSpans(sentence.entities, predicted[i], mode)) counts[sentence.entities[g].type].matched++;
    });
    const perType = Object.fromEntries(
      DEMAND_TYPES.map((t) => [t, score(counts[t].matched, counts[t].gold, counts[t].predicted)]),
    ) as Record<DemandType, Score>;
    const total = (key: 'gold' | 'predicted' | 'matched') => DEMAND_TYPES.reduce((sum, t) => sum + counts[t][key], 0);
    return { micro: score(total('matched'), total('gold'), total('predicted')), perType };
  };
  return { sentences: gold.length, strict: modeScores('strict'), lenient: modeScores('lenient') };
}

export interface UnseenRecall {
  /** Unseen gold topics matched by a predicted TOPIC. */
  matched: number;
  /** matched / unseen; 1 when there is no unseen topic (0/0). */
  recall: number;
}

export interface UnseenTopicReport {
  /** Gold TOPIC spans in all. */
  topics: number;
  /** Gold TOPIC spans whose text is not among the known topics. */
  unseen: number;
  /** unseen / topics; 0 when there is no gold topic. */
  unseenShare: number;
  strict: UnseenRecall;
  lenient: UnseenRecall;
}

const normalizeTopic = (topic: string) => topic.trim().toLowerCase();

/**
 * How well TOPIC is found where the known vocabulary (a catalog, a
 * gazetteer, the topics of the training data; compared case-insensitively,
 * surrounding spaces ignored) would not help: recall over the gold topics
 * whose text is not known. Matching is the same one-to-one matching over
 * all TOPIC spans of the sentence as in `evaluate`, so a prediction spent
 * on a known topic cannot also count for an unseen one.
 */
export function unseenTopicRecall(
  gold: readonly AnnotatedText[],
  predicted: readonly (readonly Span[])[],
  known: Iterable<string>,
): UnseenTopicReport {
  checkAligned(gold, predicted);
  const vocabulary = new Set([...known].map(normalizeTopic));
  let topics = 0;
  let unseen = 0;
  const matched = { strict: 0, lenient: 0 };
  gold.forEach((sentence, i) => {
    const goldTopics = sentence.entities.filter((s) => s.type === 'TOPIC');
    const predTopics = predicted[i].filter((s) => s.type === 'TOPIC');
    const isUnseen = goldTopics.map((s) => !vocabulary.has(normalizeTopic(sentence.text.slice(s.start, s.end))));
    topics += goldTopics.length;
    unseen += isUnseen.filter(Boolean).length;
    for (const mode of ['strict', 'lenient'] as const) {
      for (const [g] of matchSpans(goldTopics, predTopics, mode)) if (isUnseen[g]) matched[mode]++;
    }
  });
  const recallOf = (n: number): UnseenRecall => ({ matched: n, recall: ratio(n, unseen) });
  return {
    topics,
    unseen,
    unseenShare: topics === 0 ? 0 : unseen / topics,
    strict: recallOf(matched.strict),
    lenient: recallOf(matched.lenient),
  };
}
