/**
 * Demand extraction, measured: quality on the hand-annotated evaluation set
 * (test/fixtures/ner-eval, never used to train, to write patterns or
 * gazetteers) for the pattern baseline, the shipped tagger alone and what
 * extractDemands serves (the two merged, src/ml/ner/hybrid.ts), in one run;
 * then CPU speed of the model call and of the whole extraction for a
 * 100-character text, and throughput in batches. Prints one JSON object.
 */
import { extractWithPatterns } from '../../src/ml/ner/baseline';
import { readDefaultTagger } from '../../src/ml/ner/default-model';
import { evaluate, loadEvalSet, unseenTopicRecall, type Evaluation } from '../../src/ml/ner/eval';
import { mergeSpans, TAGGER_THRESHOLD } from '../../src/ml/ner/hybrid';
import { lexiconEntries } from '../../src/ml/ner/lexicon';
import { NerServing } from '../../src/ml/ner/serving';
import type { Span } from '../../src/ml/ner/types';
import { SessionCache } from '../../src/ml/runtime/cache';
import { ModelRuntime } from '../../src/ml/runtime/runtime';

const round = (x: number) => Math.round(x * 1000) / 1000;

function summary(e: Evaluation) {
  const perType = Object.fromEntries(Object.entries(e.strict.perType).map(([t, s]) => [t, { p: round(s.precision), r: round(s.recall), f1: round(s.f1), gold: s.gold }]));
  return {
    strict: { p: round(e.strict.micro.precision), r: round(e.strict.micro.recall), f1: round(e.strict.micro.f1) },
    lenient: { p: round(e.lenient.micro.precision), r: round(e.lenient.micro.recall), f1: round(e.lenient.micro.f1) },
    perType,
  };
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function main(): Promise<void> {
  const runtime = await ModelRuntime.open((process.env.ALLIED_ML_DEVICE as 'cpu') ?? 'cpu');
  const serving = new NerServing(runtime, new SessionCache({ maxModels: 4, maxBytes: 1e9 }), () => undefined);
  const shipped = readDefaultTagger();
  const gold = loadEvalSet();
  const texts = gold.map((g) => g.text);

  const baseline = texts.map((t) => extractWithPatterns(t));
  const tagged = (await serving.tag(shipped, texts)).spans;
  const served = tagged.map((spans, i) => mergeSpans(baseline[i], spans));
  const known = lexiconEntries('TOPIC').map((e) => e.text);
  const quality: Record<string, unknown> = {};
  for (const [name, predicted] of [['baseline', baseline], ['tagger', tagged], ['served', served]] as [string, Span[][]][]) {
    quality[name] = { ...summary(evaluate(gold, predicted)), unseenTopics: unseenTopicRecall(gold, predicted, known) };
  }

  // Speed: a 100-character feedback text, one at a time, then in batches.
  const long = texts.join('，');
  const hundred = Array.from({ length: 200 }, (_x, i) => long.slice((i * 37) % (long.length - 100), ((i * 37) % (long.length - 100)) + 100));
  for (let i = 0; i < 200; i++) await serving.tag(shipped, [hundred[i % hundred.length]]);
  const model: number[] = [];
  const whole: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const text = hundred[i % hundred.length];
    const t0 = performance.now();
    const [spans] = (await serving.tag(shipped, [text])).spans;
    const t1 = performance.now();
    mergeSpans(extractWithPatterns(text), spans);
    const t2 = performance.now();
    model.push(t1 - t0);
    whole.push(t2 - t0);
  }
  model.sort((a, b) => a - b);
  whole.sort((a, b) => a - b);
  const batches: Record<string, number> = {};
  for (const size of [16, 64, 256]) {
    const started = performance.now();
    let done = 0;
    while (performance.now() - started < 3000) {
      const batch = Array.from({ length: size }, (_x, k) => hundred[(done + k) % hundred.length]);
      const spans = (await serving.tag(shipped, batch)).spans;
      batch.forEach((t, k) => mergeSpans(extractWithPatterns(t), spans[k]));
      done += size;
    }
    batches[`batch${size}`] = Math.round(done / ((performance.now() - started) / 1000));
  }
  console.log(
    JSON.stringify(
      {
        model: shipped.name,
        threshold: TAGGER_THRESHOLD,
        sentences: gold.length,
        entities: gold.reduce((s, g) => s + g.entities.length, 0),
        quality,
        speed: {
          textUnits: 100,
          modelCallMs: { p50: round(percentile(model, 0.5)), p99: round(percentile(model, 0.99)) },
          extractionMs: { p50: round(percentile(whole, 0.5)), p99: round(percentile(whole, 0.99)) },
          textsPerSecond: batches,
        },
      },
      null,
      1,
    ),
  );
}

void main();
