import { topicOf, unstandardiseRow, type Standardisation } from './features';

/**
 * Readable labels for Allied's learner segments, read off each segment's
 * centroid relative to the population: a z-score (the centroid in
 * standardised units) says whether the segment is high or low on a feature;
 * the centroid in original units gives the topic shares and the raters'
 * mean rating. Rules, first match wins for the head of the label:
 *
 *  - recency z ≥ 0.75: "lapsed" (", once into <topic>" with a dominant topic);
 *  - tenure known and at most half the population's: "new, browsing <topic>";
 *  - purchase frequency z ≥ 0.5: "frequent buyers of <topic> courses";
 *  - purchase value z ≥ 0.5: "big spenders on <topic> courses";
 *  - purchase frequency and value z ≤ −0.5: "browsing <topic>, not buying";
 *  - activity z ≥ 0.5: "active learners of <topic>"; z ≤ −0.5: "quiet learners of <topic>";
 *  - otherwise "steady learners of <topic>";
 *
 * then ", rated low" / ", rated high" when at least 30% of the segment rated
 * and their mean rating is half a star or more below / above the
 * population's. A topic is dominant when it holds at least 30% of the
 * segment's interactions and 1.5 times its population share. Labels that
 * still collide get the strongest trait not yet named, in parentheses, and
 * then " (2)", " (3)"… in segment order, so labels are unique within one
 * segmentation and the same centroids always get the same labels.
 */

export interface LabelOptions {
  /** Mean tenure in days of each segment and of the population, when known: lets a label say "new". */
  tenure?: { segments: readonly number[]; population: number };
}

const HIGH = 0.5;
const LAPSED = 0.75;

interface Trait {
  feature: string;
  z: number;
  phrase: string;
}

function traitPhrase(feature: string, z: number): string {
  const high = z > 0;
  const topic = topicOf(feature);
  if (topic !== null) return high ? `into ${topic}` : `little ${topic}`;
  switch (feature) {
    case 'activity':
      return high ? 'very active' : 'low activity';
    case 'purchase_frequency':
      return high ? 'buying often' : 'rarely buying';
    case 'purchase_value':
      return high ? 'high spend' : 'low spend';
    case 'recency':
      return high ? 'long inactive' : 'recently active';
    case 'has_rated':
      return high ? 'often rating' : 'rarely rating';
    case 'mean_rating':
      return high ? 'rating high' : 'rating low';
    default:
      return `${high ? 'high' : 'low'} ${feature.replace(/_/g, ' ')}`;
  }
}

/**
 * One label per centroid. `centroids` are in standardised units (as
 * kmeans returns them), `standardisation` and `names` those of the feature
 * matrix they were fitted on (features.ts).
 */
export function labelSegments(
  centroids: readonly Float64Array[],
  standardisation: Standardisation,
  names: readonly string[],
  options: LabelOptions = {},
): string[] {
  const col = (name: string) => names.indexOf(name);
  const iActivity = col('activity');
  const iFrequency = col('purchase_frequency');
  const iValue = col('purchase_value');
  const iRating = col('mean_rating');
  const iRated = col('has_rated');
  const iRecency = col('recency');
  const topicColumns = names.map((n, j) => [topicOf(n), j] as const).filter((t): t is readonly [string, number] => t[0] !== null);
  const z = (c: Float64Array, j: number) => (j >= 0 ? c[j] : 0);

  const labelled = centroids.map((centroid, s) => {
    const original = unstandardiseRow(centroid, standardisation);
    const used = new Set<string>();
    let topic: string | null = null;
    let topicShare = 0;
    for (const [name, j] of topicColumns) {
      const share = original[j];
      if (share >= 0.3 && share >= 1.5 * standardisation.means[j] && share > topicShare) {
        topic = name;
        topicShare = share;
      }
    }
    const named = (...features: string[]) => features.forEach((f) => used.add(f));
    if (topic) named(`topic:${topic}`);

    let head: string;
    const tenure = options.tenure;
    if (z(centroid, iRecency) >= LAPSED) {
      head = topic ? `lapsed, once into ${topic}` : 'lapsed';
      named('recency');
    } else if (tenure && tenure.population > 0 && tenure.segments[s] <= 0.5 * tenure.population) {
      head = topic ? `new, browsing ${topic}` : 'new, browsing';
    } else if (z(centroid, iFrequency) >= HIGH) {
      head = topic ? `frequent buyers of ${topic} courses` : 'frequent buyers';
      named('purchase_frequency');
    } else if (z(centroid, iValue) >= HIGH) {
      head = topic ? `big spenders on ${topic} courses` : 'big spenders';
      named('purchase_value');
    } else if (z(centroid, iFrequency) <= -HIGH && z(centroid, iValue) <= -HIGH) {
      head = topic ? `browsing ${topic}, not buying` : 'browsing, not buying';
      named('purchase_frequency', 'purchase_value');
    } else if (z(centroid, iActivity) >= HIGH) {
      head = topic ? `active learners of ${topic}` : 'active learners';
      named('activity');
    } else if (z(centroid, iActivity) <= -HIGH) {
      head = topic ? `quiet learners of ${topic}` : 'quiet learners';
      named('activity');
    } else head = topic ? `steady learners of ${topic}` : 'steady learners';

    // The raters' own mean: the imputed rating is the population's mean
    // (the column's mean), so the centroid mixes it with the raters' mean
    // in proportion to the share who rated.
    if (iRating >= 0 && iRated >= 0) {
      const ratedShare = original[iRated];
      const population = standardisation.means[iRating];
      if (ratedShare >= 0.3) {
        const ratersMean = population + (original[iRating] - population) / ratedShare;
        if (ratersMean <= population - 0.5) head += ', rated low';
        else if (ratersMean >= population + 0.5) head += ', rated high';
        if (ratersMean <= population - 0.5 || ratersMean >= population + 0.5) named('mean_rating', 'has_rated');
      }
    }

    const traits: Trait[] = names
      .map((feature, j) => ({ feature, z: centroid[j], phrase: traitPhrase(feature, centroid[j]) }))
      .filter((t) => !used.has(t.feature) && Math.abs(t.z) >= 0.25)
      .sort((a, b) => Math.abs(b.z) - Math.abs(a.z) || (a.feature < b.feature ? -1 : 1));
    return { head, traits };
  });

  const labels = labelled.map((l) => l.head);
  const collide = () => {
    const seen = new Map<string, number[]>();
    labels.forEach((l, s) => seen.set(l, [...(seen.get(l) ?? []), s]));
    return [...seen.values()].filter((g) => g.length > 1);
  };
  for (const group of collide()) {
    for (const s of group) {
      const trait = labelled[s].traits[0];
      if (trait) labels[s] = `${labels[s]} (${trait.phrase})`;
    }
  }
  // Numbering could in principle meet another segment's label; repeat until none collide.
  for (let groups = collide(); groups.length > 0; groups = collide()) {
    for (const group of groups) group.slice(1).forEach((s, i) => (labels[s] = `${labels[s]} (${i + 2})`));
  }
  return labels;
}

/** Mean of `values` per segment (e.g. tenure, for LabelOptions), 0 for an empty segment. */
export function segmentMeans(values: ArrayLike<number>, assignments: Int32Array, k: number): number[] {
  const sums = new Array<number>(k).fill(0);
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < assignments.length; i++) {
    sums[assignments[i]] += values[i];
    counts[assignments[i]]++;
  }
  return sums.map((s, c) => (counts[c] > 0 ? s / counts[c] : 0));
}
