/**
 * The tagger's character vocabulary. A text is read one UTF-16 code unit
 * at a time (so predictions land on the offsets clients index by); each
 * unit is folded first: full-width forms to ASCII, Latin to lower case,
 * every digit to 0 (an amount's digits matter less than where they are).
 * Id 0 is padding, 1 an unknown character.
 */

export const PAD = 0;
export const UNKNOWN = 1;

/** The folded form of one UTF-16 code unit. */
export function foldUnit(unit: string): string {
  let c = unit.charCodeAt(0);
  if (c >= 0xff01 && c <= 0xff5e) c -= 0xfee0; // full-width ASCII
  else if (c === 0x3000) c = 0x20; // ideographic space
  if (c >= 0x30 && c <= 0x39) return '0';
  const ch = String.fromCharCode(c);
  return c < 0x80 ? ch.toLowerCase() : ch;
}

/** A vocabulary: units by id (0 and 1 reserved), and the ids by unit. */
export interface Vocabulary {
  units: string[];
  ids: Map<string, number>;
}

export function vocabulary(units: readonly string[]): Vocabulary {
  return { units: [...units], ids: new Map(units.map((u, i) => [u, i])) };
}

/** The folded units seen at least `minCount` times in `texts`, most frequent first (ties by code). */
export function buildVocabulary(texts: Iterable<string>, minCount = 2): Vocabulary {
  const counts = new Map<string, number>();
  for (const text of texts) for (let i = 0; i < text.length; i++) {
    const u = foldUnit(text[i]);
    counts.set(u, (counts.get(u) ?? 0) + 1);
  }
  const kept = [...counts.entries()]
    .filter(([, n]) => n >= minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([u]) => u);
  return vocabulary(['<pad>', '<unk>', ...kept]);
}

/**
 * A vocabulary's units as numbers, for a version's stored description: the
 * code of each unit after the two reserved ones. A unit can be half of a
 * surrogate pair (an emoji's), which JSON in PostgreSQL refuses as text.
 */
export function unitCodes(units: readonly string[]): number[] {
  return units.slice(2).map((u) => u.charCodeAt(0));
}

/** The vocabulary of stored unit codes (the inverse of unitCodes). */
export function vocabularyOfCodes(codes: readonly number[]): Vocabulary {
  return vocabulary(['<pad>', '<unk>', ...codes.map((c) => String.fromCharCode(c))]);
}

/** The ids of a text's units, into `out` from `offset`. */
export function encodeInto(text: string, vocab: Vocabulary, out: Int32Array, offset: number): void {
  for (let i = 0; i < text.length; i++) out[offset + i] = vocab.ids.get(foldUnit(text[i])) ?? UNKNOWN;
}
