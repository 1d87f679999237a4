/**
 * The learner feature vector that Allied segments learners on, built from
 * plain per-learner aggregates (one brand at a time), and its
 * standardisation.
 *
 * The columns, in order:
 *
 *  - `activity`: log1p of the learner's events in the last 90 days;
 *  - `purchase_frequency`: purchases per 30 days of tenure, the tenure
 *    floored at 30 days so that a learner who joined yesterday and bought
 *    once reads as one purchase a month, not thirty;
 *  - `purchase_value`: log1p of the learner's total spend in minor units
 *    (cents), so that one large order does not dominate the distance;
 *  - `mean_rating`: the learner's mean rating, or, for a learner who never
 *    rated, the population's mean rating (so the missing value sits at the
 *    centre and carries no weight after standardisation) ...
 *  - `has_rated`: ... with this 0/1 indicator carrying the fact of rating;
 *  - `recency`: log1p of the days since the learner's last activity;
 *  - `topic:<name>` for each of the brand's top T topics (by course
 *    interactions over all learners, ties by name): the share of the
 *    learner's course interactions that fell in that topic (0 for a learner
 *    with none). Shares are of all the learner's interactions, so a learner
 *    mostly in topics outside the top T has small values in every column.
 */

/** What Allied knows about one learner, aggregated per brand. */
export interface LearnerAggregates {
  learnerId: string;
  /** Events of any kind in the last 90 days. */
  events90d: number;
  /** Purchases over the learner's whole tenure. */
  purchases: number;
  /** Total spend over the tenure, in minor units (cents). */
  purchaseValueMinor: number;
  /** Mean of the learner's ratings, or null when the learner never rated. */
  meanRating: number | null;
  /** Days since the learner's last activity (for one never active: days since joining). */
  daysSinceLastActivity: number;
  /** Days since the learner joined the brand. */
  tenureDays: number;
  /** Course interactions per topic name (views, enrolments, completions…). */
  topicInteractions: Readonly<Record<string, number>>;
}

/**
 * What fixes the columns: the topics and the rating used for imputation.
 * Keep it with a segmentation so that new learners get the same columns.
 */
export interface FeatureSpec {
  topics: string[];
  /** The mean rating imputed for a learner who never rated. */
  ratingImputation: number;
}

export interface FeatureMatrix {
  /** One row per learner, in the order of the input. */
  rows: Float64Array[];
  /** Column names, `rows[i].length === names.length`. */
  names: string[];
  spec: FeatureSpec;
}

/** Per-column means and standard deviations of a standardisation. */
export interface Standardisation {
  means: Float64Array;
  /** Population standard deviations; a zero-variance column has 0 here and standardises to 0. */
  stds: Float64Array;
}

export const BASE_FEATURES = ['activity', 'purchase_frequency', 'purchase_value', 'mean_rating', 'has_rated', 'recency'] as const;
export const DEFAULT_TOPICS = 6;

const TOPIC_PREFIX = 'topic:';

/** The topic a `topic:<name>` column is about, or null for the other columns. */
export function topicOf(featureName: string): string | null {
  return featureName.startsWith(TOPIC_PREFIX) ? featureName.slice(TOPIC_PREFIX.length) : null;
}

/**
 * The spec for a population: its top `topics` topics by total interactions
 * (ties by name, topics with no interactions left out) and the mean of the
 * learners' mean ratings (0 when nobody rated).
 */
export function featureSpec(learners: readonly LearnerAggregates[], topics = DEFAULT_TOPICS): FeatureSpec {
  const totals = new Map<string, number>();
  let ratingSum = 0;
  let rated = 0;
  for (const l of learners) {
    for (const [topic, n] of Object.entries(l.topicInteractions)) if (n > 0) totals.set(topic, (totals.get(topic) ?? 0) + n);
    if (l.meanRating !== null && Number.isFinite(l.meanRating)) {
      ratingSum += l.meanRating;
      rated++;
    }
  }
  const top = [...totals.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, topics)
    .map(([topic]) => topic);
  return { topics: top, ratingImputation: rated > 0 ? ratingSum / rated : 0 };
}

/** The feature row of one learner under a spec (use this to place a new learner). */
export function featureRow(learner: LearnerAggregates, spec: FeatureSpec): Float64Array {
  const row = new Float64Array(BASE_FEATURES.length + spec.topics.length);
  const nonNegative = (x: number) => (Number.isFinite(x) && x > 0 ? x : 0);
  row[0] = Math.log1p(nonNegative(learner.events90d));
  row[1] = nonNegative(learner.purchases) / (Math.max(30, nonNegative(learner.tenureDays)) / 30);
  row[2] = Math.log1p(nonNegative(learner.purchaseValueMinor));
  const hasRated = learner.meanRating !== null && Number.isFinite(learner.meanRating);
  row[3] = hasRated ? (learner.meanRating as number) : spec.ratingImputation;
  row[4] = hasRated ? 1 : 0;
  row[5] = Math.log1p(nonNegative(learner.daysSinceLastActivity));
  let total = 0;
  for (const n of Object.values(learner.topicInteractions)) total += nonNegative(n);
  if (total > 0) {
    spec.topics.forEach((topic, t) => {
      row[BASE_FEATURES.length + t] = nonNegative(learner.topicInteractions[topic] ?? 0) / total;
    });
  }
  return row;
}

export function featureNames(spec: FeatureSpec): string[] {
  return [...BASE_FEATURES, ...spec.topics.map((t) => TOPIC_PREFIX + t)];
}

/** The feature matrix of a population; the spec is derived from it unless one is given. */
export function learnerFeatures(learners: readonly LearnerAggregates[], options: { topics?: number; spec?: FeatureSpec } = {}): FeatureMatrix {
  const spec = options.spec ?? featureSpec(learners, options.topics ?? DEFAULT_TOPICS);
  return { rows: learners.map((l) => featureRow(l, spec)), names: featureNames(spec), spec };
}

/** Column means and population standard deviations of `rows`. */
export function fitStandardisation(rows: readonly Float64Array[]): Standardisation {
  const d = rows.length > 0 ? rows[0].length : 0;
  const means = new Float64Array(d);
  const stds = new Float64Array(d);
  if (rows.length === 0) return { means, stds };
  for (const row of rows) for (let j = 0; j < d; j++) means[j] += row[j];
  for (let j = 0; j < d; j++) means[j] /= rows.length;
  // Two passes (mean, then squared deviations) rather than E[x²] − E[x]²,
  // which cancels badly on columns like log-spend with a large mean.
  for (const row of rows) {
    for (let j = 0; j < d; j++) {
      const dev = row[j] - means[j];
      stds[j] += dev * dev;
    }
  }
  for (let j = 0; j < d; j++) {
    const sd = Math.sqrt(stds[j] / rows.length);
    // A column constant up to rounding is treated as constant.
    stds[j] = sd > 1e-12 * Math.max(1, Math.abs(means[j])) ? sd : 0;
  }
  return { means, stds };
}

/** z-scores of one row; a zero-variance column maps to 0. */
export function standardiseRow(row: Float64Array, s: Standardisation): Float64Array {
  const out = new Float64Array(row.length);
  for (let j = 0; j < row.length; j++) out[j] = s.stds[j] > 0 ? (row[j] - s.means[j]) / s.stds[j] : 0;
  return out;
}

/** Back from z-scores to the feature's units (a zero-variance column returns its mean). */
export function unstandardiseRow(z: Float64Array, s: Standardisation): Float64Array {
  const out = new Float64Array(z.length);
  for (let j = 0; j < z.length; j++) out[j] = s.means[j] + z[j] * s.stds[j];
  return out;
}

/** Fits the standardisation on `rows` and applies it; keep `standardisation` to place new learners. */
export function standardise(rows: readonly Float64Array[]): { rows: Float64Array[]; standardisation: Standardisation } {
  const standardisation = fitStandardisation(rows);
  return { rows: rows.map((r) => standardiseRow(r, standardisation)), standardisation };
}
