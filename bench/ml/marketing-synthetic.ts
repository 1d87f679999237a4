import { localClock, utcOffsetMs } from '../../src/ml/ctr/clock';
import { Random } from '../../src/ml/train/random';
import type { SyntheticBrand } from './synthetic';

/**
 * The campaign, creatives and impressions of bench/ml/marketing.ts, planted
 * on a brand of bench/ml/synthetic.ts (whose learners have a taste over
 * its topics, t_l, summing to 1). All draws come from one seeded generator.
 *
 * One campaign in Asia/Shanghai, delivering daily from 08:00 to 23:59
 * local time (window 8..23), over the `days` whole local days before the
 * last local midnight at least two hours before `now`; creatives from
 * CREATIVE_DRAFTS (English and Chinese headlines), each about one of the
 * brand's topics and shown in one channel. An impression is a uniform
 * learner, a uniform creative, a uniform day of the campaign and a uniform
 * moment of the window (local hour h). The planted click logit is
 *
 *   z = β0 + c[channel] + a·cos(2π(h − peak[channel])/24) + e[creative] + τ·t_l[topic(creative)]
 *
 * with β0 = −3.6, a = 0.5, channel effects c and peak hours from
 * CHANNEL_EFFECT and CHANNEL_PEAK (search and in-app above email; social
 * and in-app peak in the evening, email in the morning), e ~ N(0, 0.2²)
 * per creative, and τ = 4: the learner's taste for the creative's topic
 * (t_l is Dirichlet(0.3) over 12 topics, so most learners care for two or
 * three topics and hardly at all for the rest). The click is a
 * Bernoulli(σ(z)) draw; a click comes 1 minute plus an exponential of mean
 * 4 minutes after its impression (at most 50 minutes, inside the default
 * 60-minute click window the CTR trainer credits clicks in).
 *
 * What Allied sees of the learner is its segment (from its course activity,
 * SEGMENTATION), its views and purchases in the last 30 days and its
 * interests (the top topics of its course interactions before the
 * impression), so the CTR model can learn taste × topic as interest ×
 * topic and segment × headline, through its factors; the oracle scores
 * with the planted σ(z) itself.
 */

export const TIME_ZONE = 'Asia/Shanghai';
export const WINDOW = { start: 8, end: 23 };
const BETA0 = -3.6;
const HOUR_AMPLITUDE = 0.5;
const TAU = 4;
export const CHANNEL_EFFECT: Record<string, number> = { SOCIAL: 0.1, SEARCH: 0.35, IN_APP: 0.2, EMAIL: -0.25, PARTNER_SITE: -0.15 };
export const CHANNEL_PEAK: Record<string, number> = { SOCIAL: 21, SEARCH: 13, IN_APP: 20, EMAIL: 9, PARTNER_SITE: 15 };

/** Creatives in the order they are used (BENCH_CREATIVES takes the first n): the topic each is about, its channel, its headline. */
export const CREATIVE_DRAFTS: readonly { topic: string; channel: string; headline: string }[] = [
  { topic: 'data science', channel: 'SOCIAL', headline: 'Master data science in 30 days' },
  { topic: 'programming', channel: 'SEARCH', headline: 'Python 编程实战：零基础到项目' },
  { topic: 'marketing', channel: 'IN_APP', headline: 'Growth marketing bootcamp, live every week' },
  { topic: 'finance', channel: 'EMAIL', headline: '个人理财入门，限时优惠' },
  { topic: 'photography', channel: 'SOCIAL', headline: '手机摄影进阶课程' },
  { topic: 'languages', channel: 'PARTNER_SITE', headline: 'Speak English with confidence' },
  { topic: 'fitness', channel: 'IN_APP', headline: '30 天居家健身训练营' },
  { topic: 'product design', channel: 'SEARCH', headline: 'Product design: from sketch to prototype' },
];

export interface PlantedCreative {
  topic: string;
  channel: string;
  headline: string;
  /** Index of the topic in the brand's topics. */
  topicIndex: number;
  /** e[creative]. */
  effect: number;
}

export interface PlantedImpression {
  learner: number;
  creative: number;
  /** ms since the epoch. */
  time: number;
  /** The planted σ(z). */
  probability: number;
  /** When the learner clicked, or null. */
  clickAt: number | null;
}

export interface MarketingWorld {
  creatives: PlantedCreative[];
  /** Sorted by time. */
  impressions: PlantedImpression[];
  /** The campaign's first and last moments (its `days` local days). */
  startsAt: number;
  endsAt: number;
  days: number;
  /** The planted click probability of learner `l` (index into the brand's learners) for creative `r` at `ms`. */
  probability(l: number, r: number, ms: number): number;
  /** A uniform moment inside the daily window on one of the campaign's last `lastDays` days. */
  momentInWindow(random: Random, lastDays: number): number;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export function plantMarketing(brand: SyntheticBrand, options: { seed: number; creatives: number; impressions: number; days: number; now: number }): MarketingWorld {
  const random = new Random(options.seed * 7919 + 17);
  const drafts = CREATIVE_DRAFTS.slice(0, options.creatives);
  const creatives = drafts.map((d) => {
    const topicIndex = brand.topics.indexOf(d.topic);
    if (topicIndex === -1) throw new Error(`the brand has no topic "${d.topic}" (its topics: ${brand.topics.join(', ')})`);
    return { ...d, topicIndex, effect: 0.2 * random.normal() };
  });
  // The last local midnight at least two hours ago, so that every click (≤ 50 minutes after a 23:59 impression) is in the past.
  const before = options.now - 2 * HOUR_MS;
  const localBefore = before + utcOffsetMs(TIME_ZONE, before);
  const endsAt = localMidnightUtc(Math.floor(localBefore / DAY_MS) * DAY_MS);
  const startsAt = localMidnightUtc(Math.floor(localBefore / DAY_MS) * DAY_MS - options.days * DAY_MS);
  const hours = WINDOW.end - WINDOW.start + 1;

  const probability = (l: number, r: number, ms: number) => {
    const c = creatives[r];
    const { hourOfDay } = localClock(TIME_ZONE, ms);
    const z =
      BETA0 +
      CHANNEL_EFFECT[c.channel] +
      HOUR_AMPLITUDE * Math.cos((2 * Math.PI * (hourOfDay - CHANNEL_PEAK[c.channel])) / 24) +
      c.effect +
      TAU * brand.learners[l].taste[c.topicIndex];
    return 1 / (1 + Math.exp(-z));
  };
  // Local day d of the campaign, a uniform moment in its window, as UTC ms.
  const moment = (r: Random, day: number) => localMidnightUtc(localDay(startsAt) + day * DAY_MS) + (WINDOW.start + r.next() * hours) * HOUR_MS;

  const impressions: PlantedImpression[] = [];
  for (let n = 0; n < options.impressions; n++) {
    const learner = random.int(brand.learners.length);
    const creative = random.int(creatives.length);
    const time = Math.floor(moment(random, random.int(options.days)));
    const p = probability(learner, creative, time);
    const clickAt = random.next() < p ? time + Math.floor(Math.min(50 * 60_000, 60_000 - Math.log(1 - random.next()) * 4 * 60_000)) : null;
    impressions.push({ learner, creative, time, probability: p, clickAt });
  }
  impressions.sort((a, b) => a.time - b.time);
  return {
    creatives,
    impressions,
    startsAt,
    endsAt,
    days: options.days,
    probability,
    momentInWindow: (r, lastDays) => Math.floor(moment(r, options.days - 1 - r.int(lastDays))),
  };
}

/** The UTC instant of the Shanghai midnight whose local date is that of `localMs` (local ms as if UTC). */
function localMidnightUtc(localMs: number): number {
  return localMs - utcOffsetMs(TIME_ZONE, localMs);
}

/** The local midnight (local ms as if UTC) of a UTC instant. */
function localDay(utcMs: number): number {
  return Math.floor((utcMs + utcOffsetMs(TIME_ZONE, utcMs)) / DAY_MS) * DAY_MS;
}
