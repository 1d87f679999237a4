import type { TrainProgress } from '../train/progress';
import type { TenantScope } from '../tenant';
import type { KindTrainer } from '../training';
import { extractWithPatterns } from './baseline';
import { gazetteerFromCatalog, generateCorpus, type Gazetteer } from './corpus';
import { evaluate } from './eval';
import { mergeSpans } from './hybrid';
import { TAGGER_FORMAT } from './serving';
import { decodeTags, taggerForward, taggerGraph, type TaggerWeights } from './tagger';
import type { AnnotatedText, DemandType } from './types';
import { encodeInto, unitCodes, vocabulary } from './vocab';

/** A brand's NER training, unless its version's hyper-parameters say otherwise. */
export const NER_TRAINING_DEFAULTS = {
  /** Generated sentences, slot-filled from the brand's catalog as well as the lexicon. */
  sentences: 6000,
  epochs: 3,
  seed: 1,
  /** How many times each corrected feedback text is seen per epoch: gold labels weigh more than generated ones. */
  correctionWeight: 5,
  /** Generated sentences held out to measure the model when the brand has too few corrections to hold out. */
  heldOutSentences: 150,
};
/** Corrections a brand needs before a fifth of them is held out to measure its model (the rest train it). */
export const MIN_CORRECTIONS_TO_HOLD_OUT = 10;

interface NerData {
  catalog: { title: string; topics: string[] }[];
  corrections: AnnotatedText[];
}

/** The brand's PUBLISHED catalog and its analysts' corrections, under its row-level security. */
async function loadNerData(ctx: TenantScope): Promise<NerData> {
  const manager = await ctx.manager();
  const catalog: { title: string; topics: string[] }[] = await manager.query(
    `select title, topics from courses where tenant_id = $1 and status = 'PUBLISHED' order by id`,
    [ctx.brandId],
  );
  const rows: { text: string; entities: { type: DemandType; start: number; end: number }[] }[] = await manager.query(
    `select e.text, c.entities from demand_corrections c join events e on e.tenant_id = c.tenant_id and e.id = c.event_id
     where c.tenant_id = $1 order by c.event_id`,
    [ctx.brandId],
  );
  return { catalog, corrections: rows.map((r) => ({ text: r.text, entities: r.entities.map((e) => ({ type: e.type, start: e.start, end: e.end })) })) };
}

/** What extractDemands would answer with these weights: the tagger merged with the lexicon and the brand's gazetteer. */
export function servedSpans(weights: TaggerWeights, gazetteer: Gazetteer | undefined, text: string) {
  const vocab = vocabulary(weights.units);
  const ids = new Int32Array(text.length);
  encodeInto(text, vocab, ids, 0);
  return mergeSpans(extractWithPatterns(text, gazetteer), decodeTags(taggerForward(weights, ids), text.length));
}

/**
 * A brand's own demand tagger: the shipped recipe (generated corpus, same
 * architecture) with the brand's PUBLISHED catalog as gazetteer in the
 * corpus and at serving, and its analysts' corrections as gold sentences.
 * Measured (`f1`, strict micro) on a fifth of the corrections when there
 * are at least MIN_CORRECTIONS_TO_HOLD_OUT, else on generated sentences
 * it did not train on; served through the model layer like the shipped one.
 */
export const nerTrainer = (sentences = NER_TRAINING_DEFAULTS.sentences): KindTrainer => async ({ version, asBrand, pool, report, push, signal }) => {
  const hyper = { ...NER_TRAINING_DEFAULTS, sentences, ...(version.hyper as Partial<typeof NER_TRAINING_DEFAULTS>) };
  const data = await asBrand((ctx) => loadNerData(ctx));
  const gazetteer = data.catalog.length > 0 ? gazetteerFromCatalog(data.catalog) : undefined;
  const holdOut = data.corrections.length >= MIN_CORRECTIONS_TO_HOLD_OUT;
  const heldCorrections = holdOut ? data.corrections.filter((_c, i) => i % 5 === 4) : [];
  const trainCorrections = holdOut ? data.corrections.filter((_c, i) => i % 5 !== 4) : data.corrections;
  const corpus = generateCorpus({ sentences: hyper.sentences, seed: hyper.seed, gazetteer });
  const heldOut = holdOut ? heldCorrections : generateCorpus({ sentences: hyper.heldOutSentences, seed: hyper.seed + 1_000_003, gazetteer });
  const training = [...corpus, ...trainCorrections.flatMap((c) => Array.from({ length: hyper.correctionWeight }, () => c))];
  await report({
    progress: 0,
    message: `${corpus.length} generated sentences (${data.catalog.length} courses as gazetteer) and ${trainCorrections.length} corrections`,
  });
  const result = await pool.run(
    { kind: 'ner', corpus: training, options: { epochs: hyper.epochs, seed: hyper.seed } },
    { onProgress: (p: TrainProgress) => push({ progress: p.fraction, epoch: p.epoch, loss: p.loss, message: p.message }), signal },
  );
  const evaluation = evaluate(heldOut, heldOut.map((s) => servedSpans(result.weights, gazetteer, s.text)));
  return {
    artifact: { bytes: taggerGraph(result.weights), meta: { format: TAGGER_FORMAT, codes: unitCodes(result.weights.units) } },
    metrics: {
      f1: evaluation.strict.micro.f1,
      precision: evaluation.strict.micro.precision,
      recall: evaluation.strict.micro.recall,
      lenientF1: evaluation.lenient.micro.f1,
      heldOut: holdOut ? 'corrections' : 'generated',
      heldOutSentences: heldOut.length,
      corrections: data.corrections.length,
      gazetteerCourses: data.catalog.length,
      sentences: result.sentences,
      losses: result.losses,
      hyper,
    },
  };
};
