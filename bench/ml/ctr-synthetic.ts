import type { CtrImpression } from '../../src/ml/ctr/features';
import { Random } from '../../src/ml/train/random';

/**
 * Synthetic impressions with planted click probabilities, for measuring the
 * CTR model offline (bench/ml/ctr-offline.ts). All draws come from one
 * seeded generator. The planted click logit of an impression is
 *
 *   z = β0 + c[channel] + 0.5·cos(2π(hour − peak[channel])/24)
 *       + 0.15·[weekend] + Σ_{tokens of the headline} e[token]
 *       + s[sport] (sponsorship creatives) + 0.12·log2(1 + views30d)
 *       + τ · mean_{topics t of the creative} ⟨u[segment], q[t]⟩ / √R
 *
 * with β0 = −3.4, c ~ N(0, 0.4²) per channel, peak an hour per channel
 * (evening for social, morning for email, …), e ~ N(0, 0.35²) per word of a
 * vocabulary of English words and two-character Chinese words, s ~ N(0, 0.3²)
 * per sport, and the learner taste × creative topic interaction: u ~ N(0, 1)^R
 * per learner segment, q ~ N(0, 1)^R per topic, R = 3, τ = 1. The click is a
 * Bernoulli(σ(z)) draw. A logistic regression on the hashed features can
 * learn every term but the last (segment × topic is not crossed in the
 * features); a factorisation machine can learn that too. The oracle scores
 * each impression with its planted σ(z).
 *
 * Impressions come at uniform times over `days` days (sorted), each for a
 * uniform learner (segment fixed per learner, activity counts drawn per
 * impression) and a uniform creative; channels by a fixed mix; the local
 * hour from a day-shaped distribution.
 */

export const CHANNELS = ['SOCIAL', 'SEARCH', 'IN_APP', 'EMAIL', 'PARTNER_SITE', 'BROADCAST', 'VENUE'];
const CHANNEL_MIX = [0.3, 0.2, 0.2, 0.12, 0.1, 0.05, 0.03];
const CHANNEL_PEAK = [21, 13, 20, 8, 15, 19, 18];
const KINDS = ['JOINT_MARKETING', 'AD_PLACEMENT', 'SPONSORSHIP', 'EMAIL', 'LOYALTY'];
const SPONSORSHIP_KINDS = ['EVENT', 'TEAM', 'ATHLETE'];
const SPORTS = ['football', 'basketball', 'tennis', 'running', 'esports', 'swimming'];
const ENGLISH = (
  'learn master python data science design marketing finance excel sql career start today free trial ' +
  'advanced beginner fast guide complete bootcamp project certificate online live workshop expert secrets ' +
  'growth leadership writing english speaking photography video music fitness yoga cooking investing ' +
  'ai machine deep chatgpt coding web mobile cloud security product manager startup sales brand story'
).split(' ');
const CHINESE = (
  '数据 分析 入门 进阶 课程 免费 限时 优惠 实战 职场 编程 设计 营销 理财 英语 口语 摄影 健身 ' +
  '瑜伽 烹饪 投资 人工 智能 产品 经理 创业 销售 品牌 写作 演讲 考试 证书 名师 直播 训练 营地 ' +
  '零基 快速 高效 秘籍'
).split(' ');
export const TOPICS = [
  'data science', 'programming', 'design', 'marketing', 'finance', 'languages', 'photography', 'fitness',
  'cooking', 'business', 'ai', 'writing', 'music', 'career', 'security', 'sports',
];
const RANK = 3;
const TAU = 1;

export interface SyntheticImpression extends CtrImpression {
  /** ms since the epoch. */
  time: number;
  click: 0 | 1;
  /** The planted click probability σ(z). */
  probability: number;
}

export interface SyntheticOptions {
  seed?: number;
  impressions?: number;
  segments?: number;
  learners?: number;
  creatives?: number;
  days?: number;
}

interface Creative {
  kind: string;
  headline: string;
  tokens: string[];
  topics: number[];
  sponsorshipKind?: string;
  sport?: number;
}

export function generateImpressions(options: SyntheticOptions = {}): SyntheticImpression[] {
  const { seed = 1, impressions = 200_000, segments = 24, learners = 5_000, creatives = 400, days = 28 } = options;
  const random = new Random(seed);
  const normal = (sd: number) => sd * random.normal();
  const pick = <T>(a: readonly T[]) => a[random.int(a.length)];
  const channelEffect = CHANNELS.map(() => normal(0.4));
  const tokenEffect = new Map<string, number>([...ENGLISH, ...CHINESE].map((t) => [t, normal(0.35)]));
  const sportEffect = SPORTS.map(() => normal(0.3));
  const u = Array.from({ length: segments }, () => Array.from({ length: RANK }, () => random.normal()));
  const q = TOPICS.map(() => Array.from({ length: RANK }, () => random.normal()));
  const affinity = u.map((us) => q.map((qt) => us.reduce((s, x, r) => s + x * qt[r], 0) / Math.sqrt(RANK)));

  const ads: Creative[] = Array.from({ length: creatives }, () => {
    const kind = pick(KINDS);
    const chinese = random.next() < 0.5;
    const length = 3 + random.int(4);
    const tokens = [...new Set(Array.from({ length }, () => (chinese ? pick(CHINESE) : pick(ENGLISH))))];
    // A Chinese headline is written without spaces, sometimes with an English word in it.
    const headline = chinese ? tokens.join('') + (random.next() < 0.3 ? ` ${pick(ENGLISH)}` : '') : tokens.join(' ');
    const words = chinese ? [...tokens, ...(headline.includes(' ') ? [headline.split(' ')[1]] : [])] : tokens;
    const topics = random.next() < 0.3 ? [random.int(TOPICS.length), random.int(TOPICS.length)] : [random.int(TOPICS.length)];
    const ad: Creative = { kind, headline, tokens: words, topics: [...new Set(topics)] };
    if (kind === 'SPONSORSHIP') {
      ad.sponsorshipKind = pick(SPONSORSHIP_KINDS);
      ad.sport = random.int(SPORTS.length);
    }
    return ad;
  });
  const segmentOf = Int32Array.from({ length: learners }, () => random.int(segments));
  const channelCdf = CHANNEL_MIX.map((_, i) => CHANNEL_MIX.slice(0, i + 1).reduce((a, b) => a + b, 0));

  const start = Date.UTC(2026, 0, 5);
  const times = Float64Array.from({ length: impressions }, () => start + random.next() * days * 86_400_000).sort();
  const out: SyntheticImpression[] = new Array(impressions);
  for (let n = 0; n < impressions; n++) {
    const learner = random.int(learners);
    const segment = segmentOf[learner];
    const ad = ads[random.int(ads.length)];
    const x = random.next();
    let channel = channelCdf.findIndex((c) => x < c);
    if (channel < 0) channel = CHANNELS.length - 1;
    // Local hours: more in the day and evening than at night.
    const hour = (7 + Math.floor(Math.abs(normal(6)) + random.next() * 6)) % 24;
    const dayOfWeek = new Date(times[n]).getUTCDay();
    const views30d = Math.floor(Math.exp(normal(1.2)) * (random.next() < 0.3 ? 0 : 1));
    const purchases30d = random.next() < 0.1 ? 1 + random.int(3) : 0;
    let z = -3.4 + channelEffect[channel] + 0.5 * Math.cos((2 * Math.PI * (hour - CHANNEL_PEAK[channel])) / 24);
    if (dayOfWeek === 0 || dayOfWeek === 6) z += 0.15;
    for (const t of ad.tokens) z += tokenEffect.get(t)!;
    if (ad.sport !== undefined) z += sportEffect[ad.sport];
    z += 0.12 * Math.log2(1 + views30d);
    z += (TAU * ad.topics.reduce((s, t) => s + affinity[segment][t], 0)) / ad.topics.length;
    const probability = 1 / (1 + Math.exp(-z));
    out[n] = {
      time: times[n],
      channel: CHANNELS[channel],
      hourOfDay: hour,
      dayOfWeek,
      campaignKind: ad.kind,
      headline: ad.headline,
      topics: ad.topics.map((t) => TOPICS[t]),
      sponsorshipKind: ad.sponsorshipKind ?? null,
      sport: ad.sport === undefined ? null : SPORTS[ad.sport],
      segment: `segment-${segment}`,
      views30d,
      purchases30d,
      click: random.next() < probability ? 1 : 0,
      probability,
    };
  }
  return out;
}
