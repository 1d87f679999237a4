import { Random } from '../train/random';
import type { ProgressCallback } from '../train/progress';

/**
 * k-means for Allied's learner segments: greedy k-means++ seeding (seeded),
 * Lloyd iterations until no assignment changes, the inertia stops falling
 * (relative tolerance) or a cap, several restarts keeping the lowest
 * inertia; the silhouette score; and the choice of k by silhouette.
 * Rows are expected standardised (features.ts): distances are Euclidean
 * over all columns with equal weight.
 */

export interface KMeansOptions {
  k: number;
  /** Seed of the seeding; the same rows, k and seed give the same result. Default 1. */
  seed?: number;
  /** Independent seedings, the lowest inertia kept. Default 4. */
  restarts?: number;
  /** Lloyd iterations per restart at most. Default 100. */
  maxIterations?: number;
  /** Stop when an iteration lowers the inertia by less than this share of it. Default 1e-6. */
  tolerance?: number;
  onProgress?: ProgressCallback;
}

export interface KMeansResult {
  k: number;
  /** k centroids in the rows' space (standardised units). */
  centroids: Float64Array[];
  /** The nearest centroid of each row (ties to the lower index). */
  assignments: Int32Array;
  /** Rows per segment. */
  sizes: number[];
  /** Sum of squared distances of the rows to their centroids. */
  inertia: number;
  /** Lloyd iterations of the kept restart. */
  iterations: number;
  /** Whether the kept restart stopped before the cap. */
  converged: boolean;
}

export interface SilhouetteOptions {
  /** Above this many rows the score is computed on a seeded sample of this size. Default 5,000. */
  sampleSize?: number;
  seed?: number;
}

export interface ChooseKOptions extends Omit<KMeansOptions, 'k'>, SilhouetteOptions {
  /** Smallest k tried. Default 2. */
  kMin?: number;
  /** Largest k tried (at most rows − 1). Default 8. */
  kMax?: number;
}

export interface KScore {
  k: number;
  silhouette: number;
  inertia: number;
}

export interface ChooseKResult {
  /** The k with the highest silhouette (ties to the smaller k). */
  k: number;
  result: KMeansResult;
  /** Every k tried, in increasing order. */
  scores: KScore[];
}

export const SILHOUETTE_SAMPLE = 5000;

interface Packed {
  data: Float64Array;
  n: number;
  d: number;
}

function pack(rows: readonly Float64Array[]): Packed {
  const n = rows.length;
  const d = n > 0 ? rows[0].length : 0;
  const data = new Float64Array(n * d);
  rows.forEach((row, i) => {
    if (row.length !== d) throw new RangeError(`row ${i} has ${row.length} columns, row 0 has ${d}`);
    data.set(row, i * d);
  });
  return { data, n, d };
}

function sqDistance(data: Float64Array, i: number, centres: Float64Array, c: number, d: number): number {
  let s = 0;
  const a = i * d;
  const b = c * d;
  for (let j = 0; j < d; j++) {
    const t = data[a + j] - centres[b + j];
    s += t * t;
  }
  return s;
}

/**
 * Greedy k-means++ (as in Arthur & Vassilvitskii, with 2 + ln k candidates
 * per step, keeping the one that lowers the potential most): far better
 * starts than uniform ones for the same cost as a Lloyd iteration per centre.
 */
function seedCentres(p: Packed, k: number, random: Random): Float64Array {
  const { data, n, d } = p;
  const centres = new Float64Array(k * d);
  const first = random.int(n);
  centres.set(data.subarray(first * d, first * d + d), 0);
  const closest = new Float64Array(n);
  let potential = 0;
  for (let i = 0; i < n; i++) potential += closest[i] = sqDistance(data, i, centres, 0, d);
  const trials = 2 + Math.floor(Math.log(k));
  const candidate = new Float64Array(n);
  const best = new Float64Array(n);
  for (let c = 1; c < k; c++) {
    let bestPotential = Infinity;
    let bestIndex = -1;
    for (let t = 0; t < trials; t++) {
      // D² sampling; with every point on a centre already, any point will do.
      let target = random.next() * potential;
      let pick = n - 1;
      if (potential > 0) {
        for (let i = 0; i < n; i++) {
          target -= closest[i];
          if (target < 0) {
            pick = i;
            break;
          }
        }
      } else pick = random.int(n);
      let sum = 0;
      const base = pick * d;
      for (let i = 0; i < n; i++) {
        let s = 0;
        const a = i * d;
        for (let j = 0; j < d; j++) {
          const x = data[a + j] - data[base + j];
          s += x * x;
        }
        const m = s < closest[i] ? s : closest[i];
        candidate[i] = m;
        sum += m;
      }
      if (sum < bestPotential) {
        bestPotential = sum;
        bestIndex = pick;
        best.set(candidate);
      }
    }
    centres.set(data.subarray(bestIndex * d, bestIndex * d + d), c * d);
    closest.set(best);
    potential = bestPotential;
  }
  return centres;
}

/** Assigns every row to its nearest centre; returns the inertia and how many assignments changed. */
function assign(p: Packed, centres: Float64Array, k: number, labels: Int32Array, distances: Float64Array): { inertia: number; changed: number } {
  const { data, n, d } = p;
  let inertia = 0;
  let changed = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestD = Infinity;
    const a = i * d;
    for (let c = 0; c < k; c++) {
      let s = 0;
      const b = c * d;
      for (let j = 0; j < d; j++) {
        const t = data[a + j] - centres[b + j];
        s += t * t;
      }
      if (s < bestD) {
        bestD = s;
        best = c;
      }
    }
    if (labels[i] !== best) {
      labels[i] = best;
      changed++;
    }
    distances[i] = bestD;
    inertia += bestD;
  }
  return { inertia, changed };
}

/** Moves each centre to the mean of its rows; an empty centre takes the row farthest from its own centre. */
function update(p: Packed, centres: Float64Array, k: number, labels: Int32Array, distances: Float64Array): void {
  const { data, n, d } = p;
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    counts[c]++;
    const a = i * d;
    const b = c * d;
    for (let j = 0; j < d; j++) sums[b + j] += data[a + j];
  }
  for (let c = 0; c < k; c++) {
    if (counts[c] > 0) {
      for (let j = 0; j < d; j++) centres[c * d + j] = sums[c * d + j] / counts[c];
      continue;
    }
    let far = 0;
    for (let i = 1; i < n; i++) if (distances[i] > distances[far]) far = i;
    centres.set(data.subarray(far * d, far * d + d), c * d);
    distances[far] = 0;
  }
}

function lloyd(
  p: Packed,
  k: number,
  random: Random,
  maxIterations: number,
  tolerance: number,
  report: (iteration: number, inertia: number) => void,
): { centres: Float64Array; labels: Int32Array; inertia: number; iterations: number; converged: boolean } {
  const centres = seedCentres(p, k, random);
  const labels = new Int32Array(p.n).fill(-1);
  const distances = new Float64Array(p.n);
  let previous = Infinity;
  let iterations = 0;
  let converged = false;
  let inertia = Infinity;
  while (iterations < maxIterations) {
    const step = assign(p, centres, k, labels, distances);
    inertia = step.inertia;
    iterations++;
    report(iterations, inertia);
    // Either way the labels and the inertia belong to the centres as they are now.
    if (step.changed === 0 || previous - inertia <= tolerance * inertia) {
      converged = true;
      break;
    }
    update(p, centres, k, labels, distances);
    previous = inertia;
  }
  // At the cap the last step moved the centres: assign once more so the labels match them.
  if (!converged) inertia = assign(p, centres, k, labels, distances).inertia;
  return { centres, labels, inertia, iterations, converged };
}

function runKMeans(p: Packed, options: KMeansOptions, report: (share: number, iteration: number, inertia: number, message: string) => void): KMeansResult {
  const { k } = options;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  if (k > p.n) throw new RangeError(`k = ${k} is more than the ${p.n} rows`);
  const restarts = Math.max(1, options.restarts ?? 4);
  const maxIterations = Math.max(1, options.maxIterations ?? 100);
  const tolerance = options.tolerance ?? 1e-6;
  const random = new Random(options.seed ?? 1);
  let best: ReturnType<typeof lloyd> | null = null;
  for (let r = 0; r < restarts; r++) {
    const run = lloyd(p, k, random, maxIterations, tolerance, (iteration, inertia) =>
      report((r + Math.min(1, iteration / maxIterations)) / restarts, iteration, inertia, `k = ${k}, restart ${r + 1}/${restarts}, iteration ${iteration}`),
    );
    if (!best || run.inertia < best.inertia) best = run;
    report((r + 1) / restarts, run.iterations, run.inertia, `k = ${k}, restart ${r + 1}/${restarts} done`);
  }
  const { centres, labels, inertia, iterations, converged } = best!;
  const sizes = new Array<number>(k).fill(0);
  for (let i = 0; i < p.n; i++) sizes[labels[i]]++;
  const centroids = Array.from({ length: k }, (_, c) => centres.slice(c * p.d, c * p.d + p.d));
  return { k, centroids, assignments: labels, sizes, inertia, iterations, converged };
}

/** k-means of `rows` (standardised feature rows) into `options.k` segments. */
export function kmeans(rows: readonly Float64Array[], options: KMeansOptions): KMeansResult {
  const p = pack(rows);
  return runKMeans(p, options, (fraction, epoch, loss, message) => options.onProgress?.({ fraction, epoch, loss, message }));
}

/** The rows the silhouette is computed on: all of them, or a seeded sample without replacement. */
function silhouetteSample(n: number, options: SilhouetteOptions): Int32Array {
  const size = options.sampleSize ?? SILHOUETTE_SAMPLE;
  const all = Int32Array.from({ length: n }, (_, i) => i);
  if (n <= size) return all;
  const random = new Random(options.seed ?? 1);
  for (let i = 0; i < size; i++) {
    const j = i + random.int(n - i);
    const t = all[i];
    all[i] = all[j];
    all[j] = t;
  }
  return all.slice(0, size).sort();
}

function packedSilhouette(p: Packed, labels: Int32Array, sample: Int32Array): number {
  const { data, d } = p;
  const m = sample.length;
  let k = 0;
  for (const i of sample) k = Math.max(k, labels[i] + 1);
  const counts = new Float64Array(k);
  const own = new Int32Array(m);
  for (let s = 0; s < m; s++) counts[(own[s] = labels[sample[s]])]++;
  let present = 0;
  for (let c = 0; c < k; c++) if (counts[c] > 0) present++;
  if (present < 2) return 0;
  // Sum of distances from each sampled row to each segment's sampled rows, each pair computed once.
  const sums = new Float64Array(m * k);
  for (let s = 0; s < m; s++) {
    const a = sample[s] * d;
    const ls = own[s];
    for (let t = s + 1; t < m; t++) {
      const b = sample[t] * d;
      let q = 0;
      for (let j = 0; j < d; j++) {
        const x = data[a + j] - data[b + j];
        q += x * x;
      }
      const dist = Math.sqrt(q);
      sums[s * k + own[t]] += dist;
      sums[t * k + ls] += dist;
    }
  }
  let total = 0;
  for (let s = 0; s < m; s++) {
    const c = own[s];
    // A row alone in its segment scores 0 (Rousseeuw's convention, as scikit-learn).
    if (counts[c] < 2) continue;
    const a = sums[s * k + c] / (counts[c] - 1);
    let b = Infinity;
    for (let o = 0; o < k; o++) if (o !== c && counts[o] > 0) b = Math.min(b, sums[s * k + o] / counts[o]);
    const denominator = Math.max(a, b);
    if (denominator > 0) total += (b - a) / denominator;
  }
  return total / m;
}

/**
 * The mean silhouette (Rousseeuw 1987) of a segmentation, in [−1, 1]:
 * exact for up to `sampleSize` rows, on a seeded sample of that many rows
 * (distances among the sample only, as scikit-learn's `sample_size`) above.
 * 0 when fewer than two segments are present.
 */
export function silhouette(rows: readonly Float64Array[], assignments: Int32Array, options: SilhouetteOptions = {}): number {
  if (assignments.length !== rows.length) throw new RangeError(`${assignments.length} assignments for ${rows.length} rows`);
  const p = pack(rows);
  return packedSilhouette(p, assignments, silhouetteSample(p.n, options));
}

/**
 * Runs k-means for each k in kMin..kMax and keeps the k with the highest
 * silhouette (every k scored on the same sample), recording each k's
 * silhouette and inertia.
 */
export function chooseK(rows: readonly Float64Array[], options: ChooseKOptions = {}): ChooseKResult {
  const p = pack(rows);
  const kMin = Math.max(2, options.kMin ?? 2);
  const kMax = Math.min(options.kMax ?? 8, p.n - 1);
  if (kMax < kMin) throw new RangeError(`cannot choose k in ${kMin}..${options.kMax ?? 8} for ${p.n} rows`);
  const sample = silhouetteSample(p.n, options);
  const ks = kMax - kMin + 1;
  const scores: KScore[] = [];
  let best: KMeansResult | null = null;
  let bestScore = -Infinity;
  for (let k = kMin; k <= kMax; k++) {
    const done = k - kMin;
    const result = runKMeans(p, { ...options, k }, (share, epoch, loss, message) =>
      options.onProgress?.({ fraction: (done + share) / ks, epoch, loss, message }),
    );
    const score = packedSilhouette(p, result.assignments, sample);
    scores.push({ k, silhouette: score, inertia: result.inertia });
    options.onProgress?.({ fraction: (done + 1) / ks, epoch: k, loss: result.inertia, message: `k = ${k}: silhouette ${score.toFixed(4)}` });
    if (score > bestScore) {
      bestScore = score;
      best = result;
    }
  }
  return { k: best!.k, result: best!, scores };
}
