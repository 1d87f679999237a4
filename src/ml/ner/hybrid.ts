import type { TaggedSpan } from './tagger';
import type { Span } from './types';

/**
 * How Allied answers extractDemands: the lexicon and patterns first, the
 * tagger for what they miss. Measured on the evaluation set
 * (bench/RESULTS.md, "Demand extraction"), the pattern baseline is precise
 * and the character tagger, trained on the generated corpus alone, finds
 * entities the lists lack but also many that are not there; together,
 * every pattern match stands and a tagger span is added where it overlaps
 * none and the tagger is at least TAGGER_THRESHOLD sure of it.
 *
 * The threshold was fixed before measuring, not tuned on the evaluation
 * set: a tagger span is kept only when its labels' mean probability is
 * 0.9 or more.
 *
 * Confidence: a pattern match the tagger found exactly (same span, same
 * type) has the tagger's confidence, at least PATTERN_CONFIDENCE; one the
 * tagger did not confirm has PATTERN_CONFIDENCE.
 */
export const TAGGER_THRESHOLD = 0.9;
export const PATTERN_CONFIDENCE = 0.9;

export function mergeSpans(patterns: readonly Span[], tagged: readonly TaggedSpan[], threshold = TAGGER_THRESHOLD): TaggedSpan[] {
  const out: TaggedSpan[] = patterns.map((p) => {
    const same = tagged.find((t) => t.start === p.start && t.end === p.end && t.type === p.type);
    return { ...p, confidence: Math.max(PATTERN_CONFIDENCE, same?.confidence ?? 0) };
  });
  for (const t of tagged) {
    if (t.confidence < threshold) continue;
    if (patterns.some((p) => p.start < t.end && t.start < p.end)) continue;
    out.push({ type: t.type, start: t.start, end: t.end, confidence: t.confidence });
  }
  return out.sort((a, b) => a.start - b.start);
}
