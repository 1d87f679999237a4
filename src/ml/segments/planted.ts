import { Random } from '../train/random';
import type { LearnerAggregates } from './features';

/**
 * A synthetic brand population with four planted learner groups, for the
 * segmentation's tests and its offline benchmark (bench/ml/segments-offline.ts):
 * the ground truth k-means should recover. Nothing in the server uses it.
 *
 *  0. frequent buyers of python courses, active, rating high;
 *  1. lapsed learners who rated low, once in data and design;
 *  2. new learners browsing literature, no purchases, rarely rating;
 *  3. steady learners of data courses, buying now and then.
 */

export const PLANTED_GROUPS = ['frequent python buyers', 'lapsed low raters', 'new literature browsers', 'steady data learners'] as const;

export const PLANTED_TOPICS = ['python', 'literature', 'data', 'design', 'marketing', 'music', 'history', 'cooking'] as const;

interface Archetype {
  share: number;
  events90d: number;
  /** Purchases per 30 days of tenure. */
  purchaseRate: number;
  /** Mean order value in minor units. */
  orderValue: number;
  rated: number;
  rating: number;
  recencyDays: number;
  tenureDays: number;
  /** Relative topic weights, in PLANTED_TOPICS order. */
  topics: number[];
}

const ARCHETYPES: Archetype[] = [
  { share: 0.2, events90d: 45, purchaseRate: 1.5, orderValue: 4900, rated: 0.9, rating: 4.5, recencyDays: 2, tenureDays: 400, topics: [8, 0.3, 1, 0.3, 0.2, 0.2, 0.2, 0.2] },
  { share: 0.25, events90d: 1, purchaseRate: 0.15, orderValue: 2900, rated: 0.9, rating: 2, recencyDays: 200, tenureDays: 700, topics: [0.5, 0.3, 3, 3, 0.5, 0.3, 0.3, 0.3] },
  { share: 0.3, events90d: 10, purchaseRate: 0, orderValue: 0, rated: 0.05, rating: 3.5, recencyDays: 3, tenureDays: 20, topics: [0.2, 8, 0.2, 0.3, 0.2, 0.5, 1, 0.3] },
  { share: 0.25, events90d: 20, purchaseRate: 0.4, orderValue: 3900, rated: 0.85, rating: 4, recencyDays: 10, tenureDays: 300, topics: [1, 0.2, 6, 0.5, 1, 0.2, 0.2, 0.2] },
];

export interface PlantedPopulation {
  learners: LearnerAggregates[];
  /** The planted group of each learner, an index into PLANTED_GROUPS. */
  groups: Int32Array;
}

/** `learners` learners drawn from the four archetypes with log-normal noise; the same seed gives the same population. */
export function plantedPopulation(options: { learners: number; seed?: number }): PlantedPopulation {
  const random = new Random(options.seed ?? 1);
  const n = options.learners;
  const groups = new Int32Array(n);
  const learners: LearnerAggregates[] = [];
  // Multiplicative noise of about ±30% (σ = 0.3 on the log scale).
  const jitter = (x: number, sigma = 0.3) => x * Math.exp(sigma * random.normal());
  const count = (mean: number) => Math.max(0, Math.round(jitter(mean)));
  for (let i = 0; i < n; i++) {
    let u = random.next();
    let g = 0;
    while (g < ARCHETYPES.length - 1 && u >= ARCHETYPES[g].share) u -= ARCHETYPES[g++].share;
    groups[i] = g;
    const a = ARCHETYPES[g];
    const tenureDays = Math.max(1, Math.round(jitter(a.tenureDays)));
    const purchases = a.purchaseRate > 0 ? Math.max(1, count((a.purchaseRate * Math.max(30, tenureDays)) / 30)) : 0;
    let value = 0;
    for (let p = 0; p < purchases; p++) value += Math.round(jitter(a.orderValue, 0.4));
    const rated = random.next() < a.rated;
    const rating = Math.min(5, Math.max(1, a.rating + 0.4 * random.normal()));
    const recency = Math.min(tenureDays, Math.max(0, jitter(a.recencyDays, 0.5)));
    const interactions = Math.max(1, count(a.events90d + 5));
    const weights = a.topics.map((w) => jitter(w, 0.5));
    const total = weights.reduce((s, w) => s + w, 0);
    const topicInteractions: Record<string, number> = {};
    PLANTED_TOPICS.forEach((topic, t) => {
      const c = Math.round((interactions * weights[t]) / total);
      if (c > 0) topicInteractions[topic] = c;
    });
    learners.push({
      learnerId: `learner-${i}`,
      events90d: count(a.events90d),
      purchases,
      purchaseValueMinor: value,
      meanRating: rated ? Math.round(rating * 10) / 10 : null,
      daysSinceLastActivity: Math.round(recency),
      tenureDays,
      topicInteractions,
    });
  }
  return { learners, groups };
}
