import { featureRow, featureSpec, fitStandardisation, learnerFeatures, standardise, standardiseRow, type LearnerAggregates } from '../../src/ml/segments/features';
import { chooseK, kmeans, silhouette, SILHOUETTE_SAMPLE } from '../../src/ml/segments/kmeans';
import { labelSegments, segmentMeans } from '../../src/ml/segments/labels';
import { adjustedRandIndex } from '../../src/ml/segments/metrics';
import { plantedPopulation } from '../../src/ml/segments/planted';
import type { TrainProgress } from '../../src/ml/train/progress';

const rows = (...xs: number[][]) => xs.map((x) => Float64Array.from(x));

const learner = (over: Partial<LearnerAggregates> = {}): LearnerAggregates => ({
  learnerId: 'l',
  events90d: 0,
  purchases: 0,
  purchaseValueMinor: 0,
  meanRating: null,
  daysSinceLastActivity: 0,
  tenureDays: 30,
  topicInteractions: {},
  ...over,
});

describe('learner features', () => {
  it('builds the documented columns for one learner', () => {
    const spec = { topics: ['python', 'literature'], ratingImputation: 3.5 };
    const row = featureRow(
      learner({ events90d: 9, purchases: 4, tenureDays: 120, purchaseValueMinor: 999, meanRating: 4, daysSinceLastActivity: 6, topicInteractions: { python: 3, literature: 1, music: 4 } }),
      spec,
    );
    // log1p(9); 4 purchases over 120/30 = 4 months; log1p(999); rated 4; has rated; log1p(6); python 3/8, literature 1/8.
    expect([...row]).toEqual([Math.log(10), 1, Math.log(1000), 4, 1, Math.log(7), 3 / 8, 1 / 8]);
    const never = featureRow(learner({ tenureDays: 1, purchases: 1 }), spec);
    // Tenure floored at 30 days; the population's mean rating imputed, the indicator 0; no interactions, shares 0.
    expect([...never]).toEqual([0, 1, 0, 3.5, 0, 0, 0, 0]);
  });

  it('takes the brand top topics, ties by name, and the mean rating of those who rated', () => {
    const spec = featureSpec(
      [
        learner({ meanRating: 2, topicInteractions: { b: 2, a: 2, c: 1 } }),
        learner({ meanRating: 5, topicInteractions: { c: 1, d: 1 } }),
        learner({ meanRating: null, topicInteractions: { e: 0 } }),
      ],
      3,
    );
    expect(spec).toEqual({ topics: ['a', 'b', 'c'], ratingImputation: 3.5 });
    const m = learnerFeatures([learner()], { spec });
    expect(m.names).toEqual(['activity', 'purchase_frequency', 'purchase_value', 'mean_rating', 'has_rated', 'recency', 'topic:a', 'topic:b', 'topic:c']);
  });

  it('standardises to mean 0 and sd 1, a zero-variance column to 0', () => {
    const { rows: z, standardisation } = standardise(rows([1, 7, 2], [3, 7, 2], [5, 7, 2 + 1e-15]));
    expect([...standardisation.means]).toEqual([3, 7, expect.closeTo(2, 12)]);
    expect(standardisation.stds[0]).toBeCloseTo(Math.sqrt(8 / 3), 12);
    expect(standardisation.stds[1]).toBe(0);
    expect(standardisation.stds[2]).toBe(0);
    for (const r of z) {
      expect(r[1]).toBe(0);
      expect(r[2]).toBe(0);
    }
    expect(z.map((r) => r[0]).reduce((a, b) => a + b, 0)).toBeCloseTo(0, 12);
    // A new learner is placed with the population's means and sds.
    expect([...standardiseRow(Float64Array.from([3 + Math.sqrt(8 / 3), 100, 0]), standardisation)]).toEqual([expect.closeTo(1, 12), 0, 0]);
    expect(fitStandardisation([]).means.length).toBe(0);
  });
});

describe('k-means', () => {
  it('scores the silhouette of a hand case', () => {
    // 0,1 | 10,11 on a line. Point 0: a = 1, b = (10 + 11)/2 = 10.5, s = 1 − 1/10.5;
    // point 1: a = 1, b = (9 + 10)/2 = 9.5, s = 1 − 1/9.5; the other two mirror them.
    // Mean: 1 − (1/21 + 1/19) = 359/399.
    const r = rows([0], [1], [10], [11]);
    expect(silhouette(r, Int32Array.from([0, 0, 1, 1]))).toBeCloseTo(359 / 399, 12);
    // A row alone in its segment scores 0; b is the mean distance to the nearest other segment.
    // Point 0: a = 1, b = min(10, 100) = 10 → 0.9; point 1: a = 1, b = min(9, 99) = 9 → 8/9; 10 and 100 alone: 0 each.
    expect(silhouette(rows([0], [1], [10], [100]), Int32Array.from([0, 0, 1, 2]))).toBeCloseTo((0.9 + 8 / 9) / 4, 12);
    expect(silhouette(r, Int32Array.from([0, 0, 0, 0]))).toBe(0);
  });

  it('computes the silhouette on a seeded sample above the sample size, close to the exact one', () => {
    // The default sample is 5,000 rows; a smaller one here keeps the spec fast (Jest's realm slows typed-array loops).
    expect(SILHOUETTE_SAMPLE).toBe(5000);
    const { learners } = plantedPopulation({ learners: 1500, seed: 3 });
    const z = standardise(learnerFeatures(learners).rows).rows;
    const { assignments } = kmeans(z, { k: 4, restarts: 1 });
    const sampled = silhouette(z, assignments, { sampleSize: 800 });
    expect(silhouette(z, assignments, { sampleSize: 800 })).toBe(sampled);
    expect(silhouette(z, assignments, { sampleSize: 800, seed: 2 })).not.toBe(sampled);
    expect(silhouette(z, assignments, { sampleSize: 1500 })).toBe(silhouette(z, assignments, { sampleSize: 5000 }));
    expect(Math.abs(sampled - silhouette(z, assignments))).toBeLessThan(0.03);
  });

  it('recovers the four planted groups with chooseK, ARI ≥ 0.9', () => {
    const population = plantedPopulation({ learners: 1500, seed: 11 });
    const features = learnerFeatures(population.learners);
    const { rows: z, standardisation } = standardise(features.rows);
    const progress: TrainProgress[] = [];
    const chosen = chooseK(z, { kMin: 2, kMax: 8, seed: 5, onProgress: (p) => progress.push(p) });
    expect(chosen.k).toBe(4);
    expect(chosen.scores.map((s) => s.k)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    const best = Math.max(...chosen.scores.map((s) => s.silhouette));
    expect(chosen.scores.find((s) => s.k === 4)!.silhouette).toBe(best);
    // Inertia falls with k (each k keeps its best of several restarts).
    for (let i = 1; i < chosen.scores.length; i++) expect(chosen.scores[i].inertia).toBeLessThan(chosen.scores[i - 1].inertia);
    expect(adjustedRandIndex(chosen.result.assignments, population.groups)).toBeGreaterThanOrEqual(0.9);
    expect(chosen.result.sizes.reduce((a, b) => a + b, 0)).toBe(1500);
    expect(progress.length).toBeGreaterThan(7);
    expect(progress.at(-1)!.fraction).toBe(1);
    for (let i = 1; i < progress.length; i++) expect(progress[i].fraction).toBeGreaterThanOrEqual(progress[i - 1].fraction);

    const tenure = population.learners.map((l) => l.tenureDays);
    const labels = labelSegments(chosen.result.centroids, standardisation, features.names, {
      tenure: { segments: segmentMeans(tenure, chosen.result.assignments, chosen.k), population: tenure.reduce((a, b) => a + b, 0) / tenure.length },
    });
    expect(new Set(labels).size).toBe(4);
    // Each planted group's majority segment carries the label its archetype should get.
    const expected = ['frequent buyers of python courses', 'lapsed', 'new, browsing literature', 'data courses'];
    expected.forEach((fragment, g) => {
      const counts = new Array(chosen.k).fill(0);
      population.groups.forEach((group, i) => group === g && counts[chosen.result.assignments[i]]++);
      expect(labels[counts.indexOf(Math.max(...counts))]).toContain(fragment);
    });
    expect(labels.find((l) => l.startsWith('lapsed'))).toContain('rated low');
  });

  it('is deterministic for a seed and handles k = rows', () => {
    const { learners } = plantedPopulation({ learners: 500, seed: 2 });
    const z = standardise(learnerFeatures(learners).rows).rows;
    const a = kmeans(z, { k: 3, seed: 9 });
    const b = kmeans(z, { k: 3, seed: 9 });
    expect([...a.assignments]).toEqual([...b.assignments]);
    expect(a.inertia).toBe(b.inertia);
    const tiny = kmeans(rows([0, 0], [1, 1], [1, 1]), { k: 3 });
    expect(tiny.inertia).toBe(0);
    expect(() => kmeans(rows([0]), { k: 2 })).toThrow(RangeError);
  });
});

describe('segment labels', () => {
  const names = ['activity', 'purchase_frequency', 'purchase_value', 'mean_rating', 'has_rated', 'recency', 'topic:python', 'topic:literature'];
  const standardisation = { means: Float64Array.from([2, 0.3, 6, 3.8, 0.6, 2, 0.3, 0.3]), stds: Float64Array.from([1, 0.3, 3, 0.4, 0.5, 1, 0.2, 0.2]) };

  it('reads a label from the centroid relative to the population', () => {
    const labels = labelSegments(
      rows(
        // Buying often, python share 0.3 + 0.2·2 = 0.7.
        [1, 2, 1, 0, 0, -1, 2, -1],
        // Long inactive; 90% rated (z 0.6), imputed-mixed mean 3.8 − 0.4·1.5 = 3.2, raters' mean 3.8 − 0.6/0.9 = 3.13.
        [-1, -0.5, 0, -1.5, 0.6, 1.5, 0, 0],
        // Not buying, literature share 0.7.
        [0, -1, -1, 0, -1, -1, -1, 2],
      ),
      standardisation,
      names,
    );
    expect(labels).toEqual(['frequent buyers of python courses', 'lapsed, rated low', 'browsing literature, not buying']);
  });

  it('makes colliding labels unique, deterministically', () => {
    // Three frequent python buyers: the second stands out by spend, the first and third are the same.
    const centroids = rows([1, 2, 1, 0, 0, -1, 2, -1], [1, 2, 3, 0, 0, -1, 2, -1], [1, 2, 1, 0, 0, -1, 2, -1], [0, 0, 0, 0, 0, 0, 0, 0]);
    const labels = labelSegments(centroids, standardisation, names);
    expect(new Set(labels).size).toBe(4);
    expect(labels).toEqual(labelSegments(centroids, standardisation, names));
    expect(labels.slice(0, 3)).toEqual([
      'frequent buyers of python courses (very active)',
      'frequent buyers of python courses (high spend)',
      'frequent buyers of python courses (very active) (2)',
    ]);
    expect(labels[3]).toBe('steady learners');
    for (const l of labels) expect(l).toMatch(/^[a-z][a-z ,()0-9]*$/);
  });
});

describe('the adjusted Rand index', () => {
  it('is 1 for the same partition under other names, about 0 for an unrelated one', () => {
    expect(adjustedRandIndex([0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 9, 9])).toBe(1);
    // Hand case: contingency table [[2, 0], [1, 1]], n = 4: Σ C(nij, 2) = 1; row sums (2, 2): Σ C(ai, 2) = 2;
    // column sums (3, 1): Σ C(bj, 2) = 3; expected = 2·3 / C(4, 2) = 1; max = (2 + 3)/2 = 2.5; ARI = (1 − 1)/(2.5 − 1) = 0.
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 0, 0, 1])).toBe(0);
    expect(adjustedRandIndex([0, 0, 0], [1, 1, 1])).toBe(1);
  });
});
