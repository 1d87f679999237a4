import { EVENT_CODE, type EventColumns } from '../../src/ml/train/dataset';
import { Random } from '../../src/ml/train/random';

/**
 * A synthetic brand with planted tastes, for measuring recommenders offline.
 *
 * The model, all draws from one seeded generator:
 *
 * - K latent topics (named, e.g. "data science").
 * - Each course has a topic mixture m_c ~ Dirichlet(0.15) (sparse: most
 *   courses are about one or two topics) and a popularity p_c = exp(σ·z),
 *   z ~ N(0, 1) (log-normal, a few courses far more popular than most).
 * - Each learner has a taste t_l ~ Dirichlet(0.3) over the topics; the
 *   planted affinity is a(l, c) = t_l · m_c, in [0, 1].
 * - A learner arrives at a uniform time in the first 80% of the window
 *   (default 180 days) and makes n_l ~ log-normal (mean about
 *   `meanCourses`) course choices at uniform times from then to the end
 *   of the window. Each choice picks, among the courses the learner has
 *   not chosen yet, course c with probability ∝ p_c^β · exp(τ · a(l, c)).
 * - A chosen course goes down a funnel whose steps depend on affinity:
 *   1–3 VIEWs; ENROLL with probability 0.25 + 0.5a; PURCHASE after an
 *   enrolment with 0.5 + 0.3a; COMPLETE after a purchase with 0.4 + 0.4a
 *   (weeks later); a RATING after a completion with 0.6, its stars
 *   round(1 + 4a + noise) clamped to 1..5. Events that would fall after
 *   the window have not happened yet and are dropped.
 * - Noise: with probability `noise` per choice, also a drive-by CLICK on a
 *   course drawn by popularity alone (banners, search), which does not
 *   count as a choice.
 *
 * The oracle score is the planted choice logit β·log p_c + τ·a(l, c): the
 * best ranking of a learner's next courses any model could learn.
 */

export type SyntheticEventType = 'VIEW' | 'CLICK' | 'ENROLL' | 'PURCHASE' | 'COMPLETE' | 'RATING';

export interface SyntheticCourse {
  id: string;
  title: string;
  /** Names of the course's dominant topics (mixture weight ≥ 0.25; at least the largest). */
  topics: string[];
}

export interface SyntheticLearner {
  externalId: string;
  /** Taste over the topics (sums to 1), in the order of SyntheticBrand.topics. */
  taste: number[];
}

export interface SyntheticEvent {
  type: SyntheticEventType;
  learnerExternalId: string;
  courseIndex: number;
  /** ISO 8601. */
  occurredAt: string;
  /** 1..5 for RATING, null otherwise. */
  rating: number | null;
}

export interface SyntheticBrand {
  topics: string[];
  courses: SyntheticCourse[];
  learners: SyntheticLearner[];
  /** Sorted by time. */
  events: SyntheticEvent[];
  /** The planted choice logit of learner (index into learners) for course (index into courses). */
  oracleScores(learner: number, course: number): number;
}

export interface SyntheticOptions {
  learners?: number;
  courses?: number;
  topics?: number;
  /** Length of the event window in days. */
  days?: number;
  /** Mean number of course choices per learner. */
  meanCourses?: number;
  /** β: weight of popularity in a choice. */
  popularityExponent?: number;
  /** τ: weight of affinity in a choice. */
  tasteStrength?: number;
  /** Chance of a drive-by click per choice. */
  noise?: number;
  /** The window's end, ms since the epoch. */
  end?: number;
  seed?: number;
}

const TOPIC_NAMES = [
  'data science', 'product design', 'marketing', 'finance', 'leadership', 'photography',
  'writing', 'languages', 'programming', 'music', 'fitness', 'cooking',
  'law', 'psychology', 'history', 'architecture', 'sales', 'parenting',
];

const DAY_MS = 86_400_000;

export function generateBrand(options: SyntheticOptions = {}): SyntheticBrand {
  const L = options.learners ?? 2000;
  const C = options.courses ?? 500;
  const K = options.topics ?? 12;
  const days = options.days ?? 180;
  const meanCourses = options.meanCourses ?? 24;
  const beta = options.popularityExponent ?? 1;
  const tau = options.tasteStrength ?? 10;
  const noise = options.noise ?? 0.1;
  const end = options.end ?? Date.UTC(2026, 5, 1);
  const start = end - days * DAY_MS;
  const random = new Random(options.seed ?? 1);
  const topics = Array.from({ length: K }, (_, k) => TOPIC_NAMES[k] ?? `topic ${k + 1}`);

  const mixture = new Float64Array(C * K);
  const logPopularity = new Float64Array(C);
  const courses: SyntheticCourse[] = [];
  for (let c = 0; c < C; c++) {
    const m = dirichlet(random, K, 0.15);
    mixture.set(m, c * K);
    logPopularity[c] = 1.0 * random.normal();
    const order = [...m.keys()].sort((a, b) => m[b] - m[a]);
    const dominant = order.filter((k, r) => r === 0 || m[k] >= 0.25);
    courses.push({ id: `course-${c + 1}`, title: `${capitalise(topics[dominant[0]])} ${c + 1}`, topics: dominant.map((k) => topics[k]) });
  }

  const taste = new Float64Array(L * K);
  const learners: SyntheticLearner[] = [];
  for (let l = 0; l < L; l++) {
    const t = dirichlet(random, K, 0.3);
    taste.set(t, l * K);
    learners.push({ externalId: `learner-${l + 1}`, taste: [...t] });
  }
  const affinity = (l: number, c: number) => {
    let a = 0;
    for (let k = 0; k < K; k++) a += taste[l * K + k] * mixture[c * K + k];
    return a;
  };
  const oracle = (l: number, c: number) => beta * logPopularity[c] + tau * affinity(l, c);

  // Drive-by clicks follow popularity alone: a cumulative table to draw from.
  const popularityCdf = new Float64Array(C);
  let acc = 0;
  for (let c = 0; c < C; c++) popularityCdf[c] = acc += Math.exp(beta * logPopularity[c]);

  const events: { type: SyntheticEventType; learner: number; course: number; time: number; rating: number | null }[] = [];
  const weight = new Float64Array(C);
  const logNormalSigma = 0.8;
  const logNormalMu = Math.log(meanCourses) - (logNormalSigma * logNormalSigma) / 2;
  for (let l = 0; l < L; l++) {
    const arrival = start + random.next() * 0.8 * (end - start);
    const n = Math.min(Math.floor(C / 2), Math.max(1, Math.round(Math.exp(logNormalMu + logNormalSigma * random.normal()))));
    const times = Array.from({ length: n }, () => arrival + random.next() * (end - arrival)).sort((a, b) => a - b);
    let total = 0;
    for (let c = 0; c < C; c++) total += weight[c] = Math.exp(oracle(l, c));
    const emit = (type: SyntheticEventType, course: number, time: number, rating: number | null = null) => {
      if (time <= end) events.push({ type, learner: l, course, time, rating });
    };
    for (const t of times) {
      let u = random.next() * total;
      let c = 0;
      while (c < C - 1 && (weight[c] === 0 || (u -= weight[c]) >= 0)) c++;
      // Rounding can run past the last course still open: take that one.
      while (weight[c] === 0 && c > 0) c--;
      total -= weight[c];
      weight[c] = 0;
      const a = affinity(l, c);
      const views = 1 + (random.next() < 0.3 ? 1 : 0) + (random.next() < 0.1 ? 1 : 0);
      for (let v = 0; v < views; v++) emit('VIEW', c, t + v * exponential(random, 0.5 * DAY_MS));
      if (random.next() < 0.25 + 0.5 * a) {
        const enrolled = t + exponential(random, 1 * DAY_MS);
        emit('ENROLL', c, enrolled);
        if (random.next() < 0.5 + 0.3 * a) {
          const purchased = enrolled + exponential(random, 2 * DAY_MS);
          emit('PURCHASE', c, purchased);
          if (random.next() < 0.4 + 0.4 * a) {
            const completed = purchased + exponential(random, 21 * DAY_MS);
            emit('COMPLETE', c, completed);
            if (random.next() < 0.6) {
              const stars = Math.min(5, Math.max(1, Math.round(1 + 4 * a + 0.7 * random.normal())));
              emit('RATING', c, completed + exponential(random, 1 * DAY_MS), stars);
            }
          }
        }
      }
      if (random.next() < noise) {
        const u2 = random.next() * acc;
        let lo = 0;
        let hi = C - 1;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (popularityCdf[mid] > u2) hi = mid;
          else lo = mid + 1;
        }
        emit('CLICK', lo, t + random.next() * DAY_MS);
      }
    }
  }
  events.sort((a, b) => a.time - b.time);
  return {
    topics,
    courses,
    learners,
    events: events.map((e) => ({
      type: e.type,
      learnerExternalId: learners[e.learner].externalId,
      courseIndex: e.course,
      occurredAt: new Date(Math.round(e.time)).toISOString(),
      rating: e.rating,
    })),
    oracleScores: oracle,
  };
}

/** The brand's events as the trainer's columns; learner rows are indexes into brand.learners, so oracleScores lines up. */
export function toEventColumns(brand: SyntheticBrand): EventColumns {
  const row = new Map(brand.learners.map((l, i) => [l.externalId, i]));
  const n = brand.events.length;
  const columns: EventColumns = {
    learners: brand.learners.length,
    items: brand.courses.length,
    learner: new Int32Array(n),
    item: new Int32Array(n),
    type: new Uint8Array(n),
    rating: new Uint8Array(n),
    time: new Float64Array(n),
  };
  brand.events.forEach((e, i) => {
    columns.learner[i] = row.get(e.learnerExternalId)!;
    columns.item[i] = e.courseIndex;
    columns.type[i] = EVENT_CODE[e.type];
    columns.rating[i] = e.rating ?? 0;
    columns.time[i] = Date.parse(e.occurredAt);
  });
  return columns;
}

function exponential(random: Random, mean: number): number {
  return -Math.log(1 - random.next()) * mean;
}

/** Dirichlet(α, …, α) over k components, by normalised gamma draws. */
function dirichlet(random: Random, k: number, alpha: number): number[] {
  const g = Array.from({ length: k }, () => random.gamma(alpha));
  const sum = g.reduce((s, x) => s + x, 0);
  // All components underflowing is possible for tiny α: fall back to one topic.
  if (!(sum > 0)) {
    const out = new Array<number>(k).fill(0);
    out[random.int(k)] = 1;
    return out;
  }
  return g.map((x) => x / sum);
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
