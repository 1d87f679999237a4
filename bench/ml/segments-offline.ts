import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { learnerFeatures, standardise } from '../../src/ml/segments/features';
import { chooseK, kmeans, silhouette } from '../../src/ml/segments/kmeans';
import { labelSegments, segmentMeans } from '../../src/ml/segments/labels';
import { adjustedRandIndex } from '../../src/ml/segments/metrics';
import { PLANTED_GROUPS, plantedPopulation } from '../../src/ml/segments/planted';

/**
 * The segmentation's offline benchmark: a planted population
 * (src/ml/segments/planted.ts, four known groups), its standardised
 * features, Allied's chooseK over k = 2..8 (k-means++ with restarts,
 * silhouette on a 5,000-row sample), then one k-means run at the chosen k
 * timed alone so it compares with scikit-learn's single fit. It writes the
 * standardised features, the planted groups and our assignments to
 * BENCH_OUT for bench/ml/segments_sklearn.py, which fits scikit-learn's
 * KMeans with the same k on the same rows. Run it with
 * bench/ml/run-segments-offline.sh.
 *
 * BENCH_SEED (default 1), BENCH_LEARNERS (100000).
 */
function main(): void {
  const seed = Number(process.env.BENCH_SEED ?? 1);
  const n = Number(process.env.BENCH_LEARNERS ?? 100_000);
  const out = process.env.BENCH_OUT ?? fs.mkdtempSync(path.join(os.tmpdir(), 'allied-segments-'));
  fs.mkdirSync(out, { recursive: true });

  let t = performance.now();
  const population = plantedPopulation({ learners: n, seed });
  const generateSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const features = learnerFeatures(population.learners);
  const { rows, standardisation } = standardise(features.rows);
  const featureSeconds = (performance.now() - t) / 1000;
  const d = features.names.length;
  console.error(`planted population (seed ${seed}): ${n} learners, ${d} features (${features.names.join(', ')}); generated in ${generateSeconds.toFixed(2)} s, features ${featureSeconds.toFixed(2)} s`);

  t = performance.now();
  const chosen = chooseK(rows, { kMin: 2, kMax: 8, seed });
  const chooseSeconds = (performance.now() - t) / 1000;
  for (const s of chosen.scores) console.error(`  k = ${s.k}: silhouette ${s.silhouette.toFixed(4)}, inertia ${s.inertia.toFixed(0)}`);

  t = performance.now();
  const single = kmeans(rows, { k: chosen.k, seed });
  const singleSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const score = silhouette(rows, chosen.result.assignments);
  const silhouetteSeconds = (performance.now() - t) / 1000;

  const tenure = population.learners.map((l) => l.tenureDays);
  const labels = labelSegments(chosen.result.centroids, standardisation, features.names, {
    tenure: { segments: segmentMeans(tenure, chosen.result.assignments, chosen.k), population: tenure.reduce((a, b) => a + b, 0) / n },
  });

  const flat = new Float64Array(n * d);
  rows.forEach((r, i) => flat.set(r, i * d));
  fs.writeFileSync(path.join(out, 'features.f64'), Buffer.from(flat.buffer));
  fs.writeFileSync(path.join(out, 'groups.i32'), Buffer.from(population.groups.buffer));
  fs.writeFileSync(path.join(out, 'ours.i32'), Buffer.from(chosen.result.assignments.buffer));
  const results = {
    seed,
    learners: n,
    features: features.names,
    plantedGroups: PLANTED_GROUPS,
    k: chosen.k,
    scores: chosen.scores,
    ours: {
      ari: adjustedRandIndex(chosen.result.assignments, population.groups),
      silhouette: score,
      inertia: chosen.result.inertia,
      iterations: chosen.result.iterations,
      sizes: chosen.result.sizes,
      labels,
      chooseKSeconds: chooseSeconds,
      singleKSeconds: singleSeconds,
      singleKAri: adjustedRandIndex(single.assignments, population.groups),
      silhouetteSeconds,
    },
  };
  fs.writeFileSync(path.join(out, 'results.json'), JSON.stringify(results, null, 2));
  console.error(`chose k = ${chosen.k} in ${chooseSeconds.toFixed(2)} s; one k-means at k = ${chosen.k}: ${singleSeconds.toFixed(2)} s; segments:`);
  labels.forEach((l, c) => console.error(`  ${c}: ${l} (${chosen.result.sizes[c]})`));
  console.log(out);
}

main();
