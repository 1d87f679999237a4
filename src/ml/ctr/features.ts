/**
 * Feature hashing for the CTR model. An impression becomes a fixed number F
 * of int32 bucket indices (a batch is an Int32Array [batch, F]), the same in
 * training and in serving: serving must encode with the spec the model was
 * trained with (store it with the version). A feature is the string
 * `field=value`, hashed with 32-bit FNV-1a over its UTF-8 bytes into
 * 1..buckets−1; index 0 is padding, its weights are fixed at zero, so an
 * absent optional field or an unused slot of a multi-valued field adds
 * nothing to a score.
 */

/** What is known about one impression when it is scored. */
export interface CtrImpression {
  /** Channel (SOCIAL, SEARCH, …). */
  channel: string;
  /** Local hour 0..23 and day of week 0..6 (0 = Sunday) of the viewer; the caller converts time zones. */
  hourOfDay: number;
  dayOfWeek: number;
  /** Campaign kind (JOINT_MARKETING, AD_PLACEMENT, …). */
  campaignKind: string;
  /** The creative's headline, English and/or Chinese. */
  headline: string;
  /** Topics of the promoted courses. */
  topics: readonly string[];
  /** Sponsorship kind (EVENT, TEAM, ATHLETE) and sport, for sponsorship creatives. */
  sponsorshipKind?: string | null;
  sport?: string | null;
  /** The viewer's learner segment, when known. */
  segment?: string | null;
  /** The viewer's course views and purchases in the last 30 days. */
  views30d?: number;
  purchases30d?: number;
  /** The topics of the courses the viewer interacted with most before now, most first. */
  interests?: readonly string[];
}

/** One field of the encoding and how many index slots it takes. */
export interface CtrField {
  name: string;
  slots: number;
}

/** Everything serving needs to encode exactly as training did; JSON, stored with the model version. */
export interface CtrFeatureSpec {
  version: 1;
  hash: 'fnv1a32';
  buckets: number;
  fields: CtrField[];
  /** Indices per impression: the sum of the fields' slots. */
  F: number;
}

export const DEFAULT_BUCKETS = 1 << 18;
export const HEADLINE_SLOTS = 12;
export const TOPIC_SLOTS = 4;
export const INTEREST_SLOTS = 3;
/** Activity counts are log2-bucketed: 0, 1, 2–3, 4–7, …, capped at this bucket. */
export const ACTIVITY_CAP = 8;

/**
 * The fields in slot order. Crosses: channel × hour (when people read a
 * channel differs by channel) and channel × campaign kind (an email
 * campaign in the email channel is not a banner in it). Segment × topic is
 * deliberately not crossed: it is the interaction the factorisation
 * machine learns from its factors, without a bucket per pair.
 */
export const CTR_FIELDS: readonly CtrField[] = [
  { name: 'channel', slots: 1 },
  { name: 'hour', slots: 1 },
  { name: 'day', slots: 1 },
  { name: 'channel_hour', slots: 1 },
  { name: 'kind', slots: 1 },
  { name: 'channel_kind', slots: 1 },
  { name: 'headline', slots: HEADLINE_SLOTS },
  { name: 'topic', slots: TOPIC_SLOTS },
  { name: 'sponsorship', slots: 1 },
  { name: 'sport', slots: 1 },
  { name: 'segment', slots: 1 },
  { name: 'views30d', slots: 1 },
  { name: 'purchases30d', slots: 1 },
  { name: 'interest', slots: INTEREST_SLOTS },
];

/** The spec for `buckets` hash buckets (default 2^18). */
export function ctrFeatureSpec(buckets = DEFAULT_BUCKETS): CtrFeatureSpec {
  if (!(Number.isInteger(buckets) && buckets >= 2 && buckets <= 2 ** 30)) throw new RangeError(`buckets must be an integer in 2..2^30, got ${buckets}`);
  const fields = CTR_FIELDS.map((f) => ({ ...f }));
  return { version: 1, hash: 'fnv1a32', buckets, fields, F: fields.reduce((n, f) => n + f.slots, 0) };
}

/** 32-bit FNV-1a of a string's UTF-8 bytes (encoded inline: no TextEncoder per feature on the hot path). */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  const byte = (b: number) => {
    h ^= b;
    h = Math.imul(h, 0x01000193);
  };
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) byte(c);
    else if (c < 0x800) {
      byte(0xc0 | (c >> 6));
      byte(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
      byte(0xe0 | (c >> 12));
      byte(0x80 | ((c >> 6) & 0x3f));
      byte(0x80 | (c & 0x3f));
    } else {
      byte(0xf0 | (c >> 18));
      byte(0x80 | ((c >> 12) & 0x3f));
      byte(0x80 | ((c >> 6) & 0x3f));
      byte(0x80 | (c & 0x3f));
    }
  }
  return h >>> 0;
}

/** The bucket of `field=value`, in 1..buckets−1 (0 is padding). */
export function hashFeature(field: string, value: string, buckets: number): number {
  return 1 + (fnv1a32(`${field}=${value}`) % (buckets - 1));
}

const RUNS = /(\p{Script=Han}+)|((?:(?!\p{Script=Han})[\p{L}\p{N}])+)/gu;

/**
 * Headline tokens, distinct, in order of first appearance: English (any
 * non-Han letters and digits) as lower-cased words; Chinese as the
 * character bigrams of each Han run (no segmenter needed, and a bigram
 * usually is or overlaps a word), or the single character of a one-character
 * run.
 */
export function headlineTokens(headline: string): string[] {
  const tokens: string[] = [];
  const seen = new Set<string>();
  const add = (t: string) => {
    if (!seen.has(t)) {
      seen.add(t);
      tokens.push(t);
    }
  };
  for (const m of headline.normalize('NFKC').toLowerCase().matchAll(RUNS)) {
    if (m[1] !== undefined) {
      const chars = Array.from(m[1]);
      if (chars.length === 1) add(chars[0]);
      for (let i = 0; i + 1 < chars.length; i++) add(chars[i] + chars[i + 1]);
    } else add(m[2]);
  }
  return tokens;
}

/** 0 for none, then 1 + floor(log2 n), capped at ACTIVITY_CAP. */
export function activityBucket(count: number | undefined): number {
  if (!(count !== undefined && count >= 1)) return 0;
  return Math.min(ACTIVITY_CAP, 1 + Math.floor(Math.log2(count)));
}

/** Writes the F indices of `impression` into `out` from `offset`; multi-valued fields keep their first slots' worth. */
export function encodeImpressionInto(impression: CtrImpression, spec: CtrFeatureSpec, out: Int32Array, offset: number): void {
  if (spec.version !== 1 || spec.hash !== 'fnv1a32') throw new Error(`unknown CTR feature spec ${spec.version}/${spec.hash}`);
  const b = spec.buckets;
  const hour = String(impression.hourOfDay | 0);
  const one = (field: string, value: string | null | undefined) => (value === undefined || value === null || value === '' ? 0 : hashFeature(field, value, b));
  let at = offset;
  for (const field of spec.fields) {
    const end = at + field.slots;
    let values: (string | null | undefined)[];
    switch (field.name) {
      case 'channel':
        values = [impression.channel];
        break;
      case 'hour':
        values = [hour];
        break;
      case 'day':
        values = [String(impression.dayOfWeek | 0)];
        break;
      case 'channel_hour':
        values = [`${impression.channel}|${hour}`];
        break;
      case 'kind':
        values = [impression.campaignKind];
        break;
      case 'channel_kind':
        values = [`${impression.channel}|${impression.campaignKind}`];
        break;
      case 'headline':
        values = headlineTokens(impression.headline);
        break;
      case 'topic':
        values = [...new Set(impression.topics)];
        break;
      case 'sponsorship':
        values = [impression.sponsorshipKind];
        break;
      case 'sport':
        values = [impression.sport?.toLowerCase()];
        break;
      case 'segment':
        values = [impression.segment];
        break;
      case 'views30d':
        values = [String(activityBucket(impression.views30d))];
        break;
      case 'purchases30d':
        values = [String(activityBucket(impression.purchases30d))];
        break;
      case 'interest':
        values = [...new Set(impression.interests ?? [])];
        break;
      default:
        throw new Error(`unknown CTR feature field ${field.name}`);
    }
    for (let i = 0; at < end; i++, at++) out[at] = i < values.length ? one(field.name, values[i]) : 0;
  }
}

/** The impressions as one Int32Array [n, F]. */
export function encodeImpressions(impressions: readonly CtrImpression[], spec: CtrFeatureSpec): Int32Array {
  const out = new Int32Array(impressions.length * spec.F);
  impressions.forEach((imp, i) => encodeImpressionInto(imp, spec, out, i * spec.F));
  return out;
}
