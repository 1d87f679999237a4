import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ctrFeatureSpec, encodeImpressions } from '../../src/ml/ctr/features';
import { fmPredict, FM_DEFAULTS, trainFm, type FmOptions } from '../../src/ml/ctr/fm';
import { LR_DEFAULTS, lrPredict, trainLr, type LrOptions } from '../../src/ml/ctr/lr';
import { auc, logLoss } from '../../src/ml/ctr/metrics';
import { selectRows, splitCtrByTime, type CtrExamples } from '../../src/ml/ctr/train';
import { TrainerPool } from '../../src/ml/train/pool';
import { generateImpressions } from './ctr-synthetic';

/**
 * The CTR model's offline benchmark on synthetic impressions with planted
 * click probabilities (bench/ml/ctr-synthetic.ts). It encodes them with the
 * serving features (src/ml/ctr/features.ts), splits by time as the trainer
 * does (the later 20% held out), trains LR and FM on the earlier part with
 * their defaults, and reports held-out AUC and log-loss of LR, FM and the
 * oracle (the planted probabilities). It writes the hashed split to
 * BENCH_OUT (fixed-width rows of F int32 indices, 0 = padding, and uint8
 * labels) so bench/ml/ctr_sklearn.py trains scikit-learn's
 * LogisticRegression on the same features, and times the full training
 * (trainCtr: held-out LR and FM, then the served FM on everything) through
 * the TrainerPool on BENCH_TIME_IMPRESSIONS impressions (default 1,000,000;
 * 0 skips it). Run it with bench/ml/run-ctr-offline.sh.
 *
 * BENCH_SEED (default 1), BENCH_IMPRESSIONS (200,000); BENCH_LR and BENCH_FM
 * take JSON option overrides (tune on another seed than the one reported).
 */

interface Row {
  name: string;
  auc: number;
  logloss: number;
  trainSeconds: number | null;
}

function examplesOf(seed: number, impressions: number, buckets: number): { examples: CtrExamples; oracle: Float64Array } {
  const spec = ctrFeatureSpec(buckets);
  const data = generateImpressions({ seed, impressions });
  const examples: CtrExamples = {
    indices: encodeImpressions(data, spec),
    labels: Uint8Array.from(data, (d) => d.click),
    time: Float64Array.from(data, (d) => d.time),
    F: spec.F,
    buckets: spec.buckets,
  };
  return { examples, oracle: Float64Array.from(data, (d) => d.probability) };
}

async function main(): Promise<void> {
  const seed = Number(process.env.BENCH_SEED ?? 1);
  const impressions = Number(process.env.BENCH_IMPRESSIONS ?? 200_000);
  const timeImpressions = Number(process.env.BENCH_TIME_IMPRESSIONS ?? 1_000_000);
  const lrOptions: LrOptions = { ...LR_DEFAULTS, ...JSON.parse(process.env.BENCH_LR ?? '{}') };
  const fmOptions: FmOptions = { ...FM_DEFAULTS, ...JSON.parse(process.env.BENCH_FM ?? '{}') };
  const out = process.env.BENCH_OUT ?? fs.mkdtempSync(path.join(os.tmpdir(), 'allied-ctr-'));
  fs.mkdirSync(out, { recursive: true });

  let t = performance.now();
  const { examples, oracle } = examplesOf(seed, impressions, ctrFeatureSpec().buckets);
  const encodeSeconds = (performance.now() - t) / 1000;
  const split = splitCtrByTime(examples.time);
  const test = selectRows(examples, split.test);
  const train = selectRows(examples, split.train);
  const rows: Row[] = [];

  t = performance.now();
  const lr = trainLr(examples, split.train, lrOptions);
  const lrSeconds = (performance.now() - t) / 1000;
  const lrScores = lrPredict(lr, test.indices, test.F);
  rows.push({ name: 'LR (Allied, AdaGrad)', auc: auc(lrScores, test.labels), logloss: logLoss(lrScores, test.labels), trainSeconds: lrSeconds });

  t = performance.now();
  const fm = trainFm(examples, split.train, fmOptions);
  const fmSeconds = (performance.now() - t) / 1000;
  const fmScores = fmPredict(fm, test.indices, test.F);
  rows.push({ name: `FM (Allied, k=${fmOptions.k})`, auc: auc(fmScores, test.labels), logloss: logLoss(fmScores, test.labels), trainSeconds: fmSeconds });

  const oracleScores = Float64Array.from(split.test, (r) => oracle[r]);
  rows.push({ name: 'oracle (planted)', auc: auc(oracleScores, test.labels), logloss: logLoss(oracleScores, test.labels), trainSeconds: null });

  const write = (name: string, a: Int32Array | Uint8Array) => fs.writeFileSync(path.join(out, name), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  write('train.indices.i32', train.indices);
  write('train.labels.u8', train.labels);
  write('test.indices.i32', test.indices);
  write('test.labels.u8', test.labels);

  let positives = 0;
  for (const y of examples.labels) positives += y;
  let timing: { impressions: number; seconds: number; generateAndEncodeSeconds: number } | null = null;
  if (timeImpressions > 0) {
    const generated = performance.now();
    const big = examplesOf(seed + 1000, timeImpressions, examples.buckets);
    const generateAndEncodeSeconds = (performance.now() - generated) / 1000;
    const pool = new TrainerPool();
    const start = performance.now();
    await pool.run({ kind: 'ctr', examples: big.examples, options: { lr: lrOptions, fm: fmOptions } });
    timing = { impressions: timeImpressions, seconds: (performance.now() - start) / 1000, generateAndEncodeSeconds };
    await pool.close();
  }
  const results = {
    seed,
    impressions,
    positives,
    clickRate: positives / impressions,
    F: examples.F,
    buckets: examples.buckets,
    trainExamples: split.train.length,
    testExamples: split.test.length,
    encodeSeconds,
    lr: lrOptions,
    fm: fmOptions,
    rows,
    timing,
    cpus: os.cpus().length,
  };
  fs.writeFileSync(path.join(out, 'results.json'), JSON.stringify(results, null, 2));
  fs.writeFileSync(path.join(out, 'meta.json'), JSON.stringify({ F: examples.F, buckets: examples.buckets, train: split.train.length, test: split.test.length }));
  console.log(JSON.stringify(results, null, 2));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
