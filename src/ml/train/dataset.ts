/**
 * Interaction data for the recommender trainer: raw events as dense integer
 * columns in, one weighted entry per (learner, course) pair out, and the
 * time split that held-out quality is measured on.
 */

/** A brand's interaction events, already mapped to dense rows by the caller. */
export interface EventColumns {
  /** Distinct learners: rows 0..learners-1. */
  learners: number;
  /** Distinct courses: items 0..items-1. */
  items: number;
  /** Per event: the learner's row. */
  learner: Int32Array;
  /** Per event: the course's item. */
  item: Int32Array;
  /** Per event: its EVENT_CODE. */
  type: Uint8Array;
  /** Per event: 1..5 stars for RATING, 0 otherwise. */
  rating: Uint8Array;
  /** Per event: occurredAt, ms since the epoch. */
  time: Float64Array;
}

export const EVENT_CODE = { VIEW: 1, CLICK: 2, ENROLL: 3, PURCHASE: 4, COMPLETE: 5, RATING: 6 } as const;
export type EventType = keyof typeof EVENT_CODE;

/**
 * How much positive signal one event carries, before recency decay. Money
 * and commitment count more than attention: a purchase is the strongest
 * sign of interest, a completion nearly as strong (the learner stayed), an
 * enrolment (often free) less, a view or click the least. A RATING counts
 * by its stars, see ratingWeight.
 */
export const EVENT_WEIGHT = { VIEW: 1, CLICK: 1, ENROLL: 3, PURCHASE: 5, COMPLETE: 4 } as const;

/**
 * A rating's positive signal: 4 or 5 stars as much as a completion, 3 stars
 * as little as a view, 2 stars or fewer none at all (the pair still counts
 * as seen: such a course is not held out as a new interest).
 */
export function ratingWeight(stars: number): number {
  if (stars >= 4) return 4;
  if (stars === 3) return 1;
  return 0;
}

/** Default half-life of an event's weight: one that is 90 days older than the newest event counts half. */
export const DEFAULT_HALF_LIFE_DAYS = 90;

export interface WeightOptions {
  /** Days after which an event's weight halves, relative to the newest event; Infinity for no decay. */
  halfLifeDays?: number;
}

/** One entry per (learner, item) pair with positive weight, sorted by learner, then item. */
export interface Interactions {
  learners: number;
  items: number;
  learner: Int32Array;
  item: Int32Array;
  weight: Float32Array;
}

/** Held-out items per learner: learner l's items are item[offsets[l] .. offsets[l + 1]), ascending. */
export interface HeldOut {
  learners: number;
  items: number;
  /** learners + 1 entries. */
  offsets: Int32Array;
  item: Int32Array;
}

export interface SplitOptions extends WeightOptions {
  /** Share of events (by time) held out for testing, in (0, 1); default 0.2. */
  holdoutFraction?: number;
}

export interface Split {
  /** Aggregated events before the cutoff. */
  train: Interactions;
  /** Per learner with train interactions: the items first met (positively) at or after the cutoff. */
  test: HeldOut;
  /** The cutoff, ms since the epoch. */
  cutoff: number;
}

const DAY_MS = 86_400_000;

/** Base weight by EVENT_CODE (index = code); RATING is handled by ratingWeight. */
const TYPE_WEIGHT = (() => {
  const w = new Float64Array(8);
  w[EVENT_CODE.VIEW] = EVENT_WEIGHT.VIEW;
  w[EVENT_CODE.CLICK] = EVENT_WEIGHT.CLICK;
  w[EVENT_CODE.ENROLL] = EVENT_WEIGHT.ENROLL;
  w[EVENT_CODE.PURCHASE] = EVENT_WEIGHT.PURCHASE;
  w[EVENT_CODE.COMPLETE] = EVENT_WEIGHT.COMPLETE;
  return w;
})();

/** Throws a RangeError when the columns disagree in length or a row is out of range. */
export function validateEvents(events: EventColumns): void {
  const n = events.learner.length;
  for (const [name, column] of [
    ['item', events.item],
    ['type', events.type],
    ['rating', events.rating],
    ['time', events.time],
  ] as const) {
    if (column.length !== n) throw new RangeError(`events.${name} has ${column.length} entries, events.learner ${n}`);
  }
  if (!(Number.isInteger(events.learners) && events.learners >= 0)) throw new RangeError(`events.learners must be a count, got ${events.learners}`);
  if (!(Number.isInteger(events.items) && events.items >= 0)) throw new RangeError(`events.items must be a count, got ${events.items}`);
  for (let e = 0; e < n; e++) {
    const l = events.learner[e];
    const i = events.item[e];
    if (l < 0 || l >= events.learners) throw new RangeError(`event ${e}: learner row ${l} is outside 0..${events.learners - 1}`);
    if (i < 0 || i >= events.items) throw new RangeError(`event ${e}: item ${i} is outside 0..${events.items - 1}`);
    if (!Number.isFinite(events.time[e])) throw new RangeError(`event ${e}: time ${events.time[e]} is not a number of ms`);
  }
}

/** An event's positive signal before decay (see EVENT_WEIGHT and ratingWeight); 0 for none. */
export function baseWeight(type: number, rating: number): number {
  return type === EVENT_CODE.RATING ? ratingWeight(rating) : (TYPE_WEIGHT[type] ?? 0);
}

/**
 * Each event's weight: its base weight times 2^(−age / half-life), the age
 * measured from `reference` (default: the newest event among those weighed).
 */
export function eventWeights(events: EventColumns, options: WeightOptions & { reference?: number } = {}): Float64Array {
  const halfLife = (options.halfLifeDays ?? DEFAULT_HALF_LIFE_DAYS) * DAY_MS;
  if (!(halfLife > 0)) throw new RangeError(`halfLifeDays must be positive, got ${options.halfLifeDays}`);
  const n = events.learner.length;
  let reference = options.reference ?? -Infinity;
  if (options.reference === undefined) for (let e = 0; e < n; e++) if (events.time[e] > reference) reference = events.time[e];
  const out = new Float64Array(n);
  for (let e = 0; e < n; e++) {
    const w = baseWeight(events.type[e], events.rating[e]);
    out[e] = w === 0 ? 0 : w * Math.pow(0.5, Math.max(0, reference - events.time[e]) / halfLife);
  }
  return out;
}

/** All events aggregated: one entry per (learner, item) pair with positive summed weight. The served model trains on this. */
export function aggregate(events: EventColumns, options: WeightOptions = {}): Interactions {
  validateEvents(events);
  return sumPairs(events, eventWeights(events, options), null);
}

/**
 * A time split for held-out evaluation. The cutoff is the (1 − holdoutFraction)
 * quantile of event times. Train: the events strictly before it, aggregated
 * (recency measured from the newest train event, as a model trained at the
 * cutoff would see them). Test: for each learner with train interactions,
 * the items with a positive event at or after the cutoff and no event of
 * any kind before it — new interests, never a course the learner had
 * already met.
 */
export function splitByTime(events: EventColumns, options: SplitOptions = {}): Split {
  validateEvents(events);
  const holdout = options.holdoutFraction ?? 0.2;
  if (!(holdout > 0 && holdout < 1)) throw new RangeError(`holdoutFraction must be in (0, 1), got ${holdout}`);
  const n = events.learner.length;
  const { learners, items } = events;
  if (n === 0) {
    return { train: emptyInteractions(learners, items), test: emptyHeldOut(learners, items), cutoff: Number.NaN };
  }
  const sorted = Float64Array.from(events.time).sort();
  const cutoff = sorted[Math.min(n - 1, Math.floor((1 - holdout) * n))];

  const before = new Uint8Array(n);
  let newestTrain = -Infinity;
  for (let e = 0; e < n; e++) {
    if (events.time[e] < cutoff) {
      before[e] = 1;
      if (events.time[e] > newestTrain) newestTrain = events.time[e];
    }
  }
  const weights = eventWeights(events, { ...options, reference: newestTrain });
  const train = sumPairs(events, weights, before);

  const hasTrain = new Uint8Array(learners);
  for (let p = 0; p < train.learner.length; p++) hasTrain[train.learner[p]] = 1;
  // Pairs met before the cutoff in any way (even a low rating), by key learner·items + item.
  const seen = new Set<number>();
  for (let e = 0; e < n; e++) if (before[e]) seen.add(events.learner[e] * items + events.item[e]);
  const heldOut = new Set<number>();
  for (let e = 0; e < n; e++) {
    if (before[e] || !hasTrain[events.learner[e]]) continue;
    if (baseWeight(events.type[e], events.rating[e]) <= 0) continue;
    const key = events.learner[e] * items + events.item[e];
    if (!seen.has(key)) heldOut.add(key);
  }
  const keys = Float64Array.from(heldOut).sort();
  const offsets = new Int32Array(learners + 1);
  const testItems = new Int32Array(keys.length);
  for (let p = 0; p < keys.length; p++) {
    const l = Math.floor(keys[p] / items);
    offsets[l + 1]++;
    testItems[p] = keys[p] - l * items;
  }
  for (let l = 0; l < learners; l++) offsets[l + 1] += offsets[l];
  return { train, test: { learners, items, offsets, item: testItems }, cutoff };
}

/** Row offsets of sorted interactions: learner l's entries are offsets[l] .. offsets[l + 1]. */
export function learnerOffsets(data: Interactions): Int32Array {
  const offsets = new Int32Array(data.learners + 1);
  for (let p = 0; p < data.learner.length; p++) offsets[data.learner[p] + 1]++;
  for (let l = 0; l < data.learners; l++) offsets[l + 1] += offsets[l];
  return offsets;
}

/** The same interactions grouped by item: item i's learners are learner[offsets[i] .. offsets[i + 1]), with their weights. */
export function byItem(data: Interactions): { offsets: Int32Array; learner: Int32Array; weight: Float32Array } {
  const nnz = data.learner.length;
  const offsets = new Int32Array(data.items + 1);
  for (let p = 0; p < nnz; p++) offsets[data.item[p] + 1]++;
  for (let i = 0; i < data.items; i++) offsets[i + 1] += offsets[i];
  const next = offsets.slice(0, data.items);
  const learner = new Int32Array(nnz);
  const weight = new Float32Array(nnz);
  for (let p = 0; p < nnz; p++) {
    const at = next[data.item[p]]++;
    learner[at] = data.learner[p];
    weight[at] = data.weight[p];
  }
  return { offsets, learner, weight };
}

/** Number of held-out (learner, item) pairs. */
export function heldOutPairs(test: HeldOut): number {
  return test.item.length;
}

/** Learners with at least one held-out item. */
export function heldOutLearners(test: HeldOut): number {
  let count = 0;
  for (let l = 0; l < test.learners; l++) if (test.offsets[l + 1] > test.offsets[l]) count++;
  return count;
}

function emptyInteractions(learners: number, items: number): Interactions {
  return { learners, items, learner: new Int32Array(0), item: new Int32Array(0), weight: new Float32Array(0) };
}

function emptyHeldOut(learners: number, items: number): HeldOut {
  return { learners, items, offsets: new Int32Array(learners + 1), item: new Int32Array(0) };
}

/**
 * Sums the weights of the selected events per (learner, item) and keeps the
 * positive sums: events bucketed by learner (counting sort), then each
 * learner's items summed in a dense scratch row and emitted in item order.
 */
function sumPairs(events: EventColumns, weights: Float64Array, select: Uint8Array | null): Interactions {
  const { learners, items } = events;
  const n = events.learner.length;
  const start = new Int32Array(learners + 1);
  for (let e = 0; e < n; e++) if ((!select || select[e]) && weights[e] > 0) start[events.learner[e] + 1]++;
  for (let l = 0; l < learners; l++) start[l + 1] += start[l];
  const order = new Int32Array(start[learners]);
  const fill = start.slice(0, learners);
  for (let e = 0; e < n; e++) if ((!select || select[e]) && weights[e] > 0) order[fill[events.learner[e]]++] = e;

  const scratch = new Float64Array(items);
  const touched: number[] = [];
  const outLearner: number[] = [];
  const outItem: number[] = [];
  const outWeight: number[] = [];
  for (let l = 0; l < learners; l++) {
    for (let p = start[l]; p < start[l + 1]; p++) {
      const e = order[p];
      const i = events.item[e];
      if (scratch[i] === 0) touched.push(i);
      scratch[i] += weights[e];
    }
    touched.sort((a, b) => a - b);
    for (const i of touched) {
      outLearner.push(l);
      outItem.push(i);
      outWeight.push(scratch[i]);
      scratch[i] = 0;
    }
    touched.length = 0;
  }
  return {
    learners,
    items,
    learner: Int32Array.from(outLearner),
    item: Int32Array.from(outItem),
    weight: Float32Array.from(outWeight),
  };
}
