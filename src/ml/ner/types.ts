/**
 * The vocabulary of demand extraction, shared by the corpus, the taggers,
 * the baseline and the evaluation: entity types, spans in UTF-16 code units
 * (what JavaScript strings and GraphQL clients index by), and the BIO
 * labels a character tagger predicts, one per UTF-16 code unit.
 */

export const DEMAND_TYPES = ['TOPIC', 'LEVEL', 'FORMAT', 'TIME', 'BUDGET', 'PERSON', 'ORG', 'LOC'] as const;
export type DemandType = (typeof DEMAND_TYPES)[number];

/** An entity of the input: `text.slice(start, end)`, end exclusive, offsets in UTF-16 code units. */
export interface Span {
  type: DemandType;
  start: number;
  end: number;
}

/** A sentence with its entities (gold, weakly labelled or predicted). */
export interface AnnotatedText {
  text: string;
  entities: Span[];
}

/** Label 0 is O; then B-<type>, I-<type> for each type in DEMAND_TYPES order. */
export const BIO_LABELS: readonly string[] = ['O', ...DEMAND_TYPES.flatMap((t) => [`B-${t}`, `I-${t}`])];

export const beginOf = (type: DemandType) => 1 + 2 * DEMAND_TYPES.indexOf(type);
export const insideOf = (type: DemandType) => 2 + 2 * DEMAND_TYPES.indexOf(type);

/** The type a label belongs to, or null for O. */
export function typeOfLabel(label: number): DemandType | null {
  return label === 0 ? null : DEMAND_TYPES[(label - 1) >> 1];
}

export const isBegin = (label: number) => label > 0 && (label - 1) % 2 === 0;

/**
 * One BIO label per UTF-16 code unit. Spans must lie inside the text and not
 * overlap (a later overlapping span is dropped); empty spans are ignored.
 */
export function spansToBio(text: string, spans: readonly Span[]): Uint8Array {
  const labels = new Uint8Array(text.length);
  const taken = new Uint8Array(text.length);
  for (const s of [...spans].sort((a, b) => a.start - b.start || b.end - a.end)) {
    if (!(s.start >= 0 && s.end <= text.length && s.start < s.end)) continue;
    let free = true;
    for (let i = s.start; i < s.end; i++) if (taken[i]) free = false;
    if (!free) continue;
    labels[s.start] = beginOf(s.type);
    taken[s.start] = 1;
    for (let i = s.start + 1; i < s.end; i++) {
      labels[i] = insideOf(s.type);
      taken[i] = 1;
    }
  }
  return labels;
}

/**
 * Spans of a label sequence: a B starts a span, following I of the same
 * type extend it; an I that follows neither (an invalid transition) starts
 * a span of its own type, so nothing predicted is silently dropped.
 */
export function bioToSpans(labels: ArrayLike<number>): Span[] {
  const spans: Span[] = [];
  let open: Span | null = null;
  for (let i = 0; i <= labels.length; i++) {
    const label = i < labels.length ? labels[i] : 0;
    const type = typeOfLabel(label);
    if (open && (type !== open.type || isBegin(label) || label === 0)) {
      open.end = i;
      spans.push(open);
      open = null;
    }
    if (type && !open) open = { type, start: i, end: i + 1 };
  }
  return spans;
}
