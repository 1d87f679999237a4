import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { trainAls, type AlsOptions } from '../../src/ml/train/als';
import { trainBpr, type BprOptions } from '../../src/ml/train/bpr';
import { heldOutLearners, heldOutPairs, splitByTime, type EventColumns, type HeldOut, type Interactions } from '../../src/ml/train/dataset';
import { constantScorer, factorScorer, popularityScores, rankingMetrics, type LearnerScorer } from '../../src/ml/train/evaluate';
import { TrainerPool } from '../../src/ml/train/pool';
import { DEFAULT_ALGORITHM, type RecommenderAlgorithm } from '../../src/ml/train/recommender';
import { subset, writeHeldOut, writePairs } from './split-files';
import { generateBrand, toEventColumns, type SyntheticBrand } from './synthetic';

/**
 * The recommender's offline benchmark on a synthetic brand with planted
 * tastes (bench/ml/synthetic.ts). It splits the events by time as the
 * trainer does, trains ALS and BPR on the earlier 80%, and measures
 * NDCG@10 and recall@10 on the courses each learner met for the first time
 * in the later 20% (train courses excluded from every ranking), for:
 * recency-weighted popularity (the floor), ALS, BPR and the oracle (the
 * planted choice logit, the ceiling). It writes the split to BENCH_OUT so
 * bench/ml/ease.py measures two outside peers (EASE and item-kNN) on the
 * same split, and times the full training (held-out run plus final run) of
 * both algorithms through the TrainerPool, in a worker thread, as the
 * server runs it. Run it with bench/ml/run-offline.sh.
 *
 * BENCH_SEED (default 1), BENCH_LEARNERS (2000), BENCH_COURSES (500);
 * BENCH_EXPLORE=als|bpr prints a hyper-parameter grid instead (tune on
 * another seed than the one reported): BENCH_GRID is a JSON list of option
 * objects, each also taking "binary": true (every train weight 1) and
 * "popularityBias": s (item bias s·log(1 + popularity)) to measure those.
 */

interface Row {
  name: string;
  ndcg10: number;
  recall10: number;
  learners: number;
  trainSeconds: number | null;
}

async function main(): Promise<void> {
  const seed = Number(process.env.BENCH_SEED ?? 1);
  let t = performance.now();
  const brand = generateBrand({ seed, learners: Number(process.env.BENCH_LEARNERS ?? 2000), courses: Number(process.env.BENCH_COURSES ?? 500) });
  const events = toEventColumns(brand);
  const generateSeconds = (performance.now() - t) / 1000;
  const split = splitByTime(events);
  console.error(
    `synthetic brand (seed ${seed}): ${brand.learners.length} learners, ${brand.courses.length} courses, ${events.learner.length} events (${generateSeconds.toFixed(1)} s); ` +
      `split at ${new Date(split.cutoff).toISOString()}: ${split.train.learner.length} train pairs, ${heldOutPairs(split.test)} held-out pairs of ${heldOutLearners(split.test)} learners`,
  );

  const explore = process.env.BENCH_EXPLORE;
  if (explore === 'als' || explore === 'bpr') return grid(explore, split.train, split.test, brand);

  const out = process.env.BENCH_OUT ?? fs.mkdtempSync(path.join(os.tmpdir(), 'allied-offline-'));
  fs.mkdirSync(out, { recursive: true });
  const rows: Row[] = [];
  const measure = (name: string, scorer: LearnerScorer, trainSeconds: number | null) => {
    const m = rankingMetrics(scorer, split.train, split.test, 10);
    rows.push({ name, ndcg10: m.ndcg10, recall10: m.recall10, learners: m.learners, trainSeconds });
    console.error(`${name}: NDCG@10 ${m.ndcg10.toFixed(4)}, recall@10 ${m.recall10.toFixed(4)}`);
  };
  measure('popularity (recency-weighted)', constantScorer(popularityScores(split.train)), null);
  t = performance.now();
  const als = trainAls(split.train);
  measure('ALS', factorScorer(als), (performance.now() - t) / 1000);
  t = performance.now();
  const bpr = trainBpr(split.train);
  measure('BPR', factorScorer(bpr), (performance.now() - t) / 1000);
  measure('oracle (planted affinity)', (learner, scores) => {
    for (let c = 0; c < scores.length; c++) scores[c] = brand.oracleScores(learner, c);
  }, null);

  // The split for the outside peers, and an inner split of the train part for their tuning.
  writePairs(path.join(out, 'train.csv'), split.train);
  writeHeldOut(path.join(out, 'test.csv'), split.test);
  const before = subset(events, (e) => events.time[e] < split.cutoff);
  const inner = splitByTime(before);
  writePairs(path.join(out, 'inner-train.csv'), inner.train);
  writeHeldOut(path.join(out, 'inner-test.csv'), inner.test);

  // The full training, both phases, in a worker thread, as the server runs it.
  const endToEnd: Record<string, number> = {};
  const pool = new TrainerPool({ concurrency: 1 });
  try {
    for (const algorithm of ['als', 'bpr'] as RecommenderAlgorithm[]) {
      t = performance.now();
      const result = await pool.run({ kind: 'recommender', events: toEventColumns(brand), options: { algorithm } });
      endToEnd[algorithm] = (performance.now() - t) / 1000;
      console.error(`trainRecommender(${algorithm}) in a worker: ${endToEnd[algorithm].toFixed(2)} s, held-out NDCG@10 ${result.metrics.ndcg10?.toFixed(4)}`);
    }
  } finally {
    await pool.close();
  }

  const results = {
    seed,
    learners: events.learners,
    courses: events.items,
    events: events.learner.length,
    trainPairs: split.train.learner.length,
    testPairs: heldOutPairs(split.test),
    testLearners: heldOutLearners(split.test),
    cutoff: new Date(split.cutoff).toISOString(),
    defaultAlgorithm: DEFAULT_ALGORITHM,
    endToEndSeconds: endToEnd,
    machine: `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node.js ${process.version}`,
    rows,
  };
  fs.writeFileSync(path.join(out, 'results.json'), JSON.stringify(results, null, 2));
  console.log(out);
}


/** A small hyper-parameter grid on the given split (for tuning the defaults on another seed). */
function grid(algorithm: 'als' | 'bpr', train: Interactions, test: HeldOut, brand: SyntheticBrand): void {
  const floor = rankingMetrics(constantScorer(popularityScores(train)), train, test, 10);
  const ceiling = rankingMetrics((learner, scores) => {
    for (let c = 0; c < scores.length; c++) scores[c] = brand.oracleScores(learner, c);
  }, train, test, 10);
  console.log(`popularity: NDCG@10 ${floor.ndcg10.toFixed(4)}; oracle: NDCG@10 ${ceiling.ndcg10.toFixed(4)}`);
  const configs: (AlsOptions | BprOptions)[] = JSON.parse(process.env.BENCH_GRID ?? '[{}]');
  for (const config of configs) {
    const t = performance.now();
    const data = (config as { binary?: boolean }).binary ? { ...train, weight: new Float32Array(train.weight.length).fill(1) } : train;
    const model = algorithm === 'als' ? trainAls(data, config as AlsOptions) : trainBpr(data, config as BprOptions);
    const seconds = (performance.now() - t) / 1000;
    // "popularityBias": s replaces the item bias by s·log(1 + popularity), to measure whether it helps.
    const bias = (config as { popularityBias?: number }).popularityBias;
    if (bias !== undefined) popularityScores(train).forEach((p, i) => (model.itemBias[i] = bias * Math.log1p(p)));
    const m = rankingMetrics(factorScorer(model), train, test, 10);
    console.log(`${algorithm} ${JSON.stringify(config)}: NDCG@10 ${m.ndcg10.toFixed(4)} recall@10 ${m.recall10.toFixed(4)} (${seconds.toFixed(2)} s)`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
