/**
 * WordPiece tokenisation, as BERT-style token classifiers expect it, with
 * each token's offsets (UTF-16 code units, end exclusive) into the original
 * text, so that labels predicted per token land back on the learner's words.
 *
 * Basic step, code point by code point: control characters and the
 * replacement character are dropped, whitespace separates words, every CJK
 * ideograph is a word of its own, and every punctuation character (ASCII
 * symbols or a Unicode P* category) is a word of its own; with `lowercase`
 * (uncased vocabularies) each code point is lower-cased and its accents
 * stripped (NFD, combining marks removed). Then each word is split greedily
 * into the longest vocabulary pieces from its start, pieces after the first
 * prefixed with "##"; a word with no such split, or longer than
 * `maxWordChars` code points, is one [UNK] token covering the whole word.
 */

export interface WordPieceOptions {
  lowercase: boolean;
  unknown?: string;
  maxWordChars?: number;
}

export interface WordPieceToken {
  id: number;
  piece: string;
  start: number;
  end: number;
}

export class WordPieceTokenizer {
  private readonly ids: Map<string, number>;
  readonly unknownId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;

  constructor(
    readonly vocab: readonly string[],
    private readonly options: WordPieceOptions,
  ) {
    this.ids = new Map();
    vocab.forEach((piece, id) => {
      if (!this.ids.has(piece)) this.ids.set(piece, id);
    });
    const special = (name: string) => {
      const id = this.ids.get(name);
      if (id === undefined) throw new RangeError(`the vocabulary has no ${name} token`);
      return id;
    };
    this.unknownId = special(options.unknown ?? '[UNK]');
    this.clsId = special('[CLS]');
    this.sepId = special('[SEP]');
    this.padId = this.ids.get('[PAD]') ?? 0;
  }

  tokenize(text: string): WordPieceToken[] {
    const out: WordPieceToken[] = [];
    for (const word of basicWords(text, this.options.lowercase)) this.pieces(word, out);
    return out;
  }

  private pieces(word: BasicWord, out: WordPieceToken[]): void {
    const units = word.units;
    const max = this.options.maxWordChars ?? 100;
    const unknown = (): void => {
      out.push({ id: this.unknownId, piece: this.vocab[this.unknownId], start: word.start, end: word.end });
    };
    if ([...word.text].length > max) return unknown();
    const found: WordPieceToken[] = [];
    let at = 0;
    while (at < word.text.length) {
      let end = word.text.length;
      let id: number | undefined;
      while (end > at) {
        const piece = (at > 0 ? '##' : '') + word.text.slice(at, end);
        id = this.ids.get(piece);
        if (id !== undefined) break;
        end--;
        // Never end between the halves of a surrogate pair.
        if (end > at && isLowSurrogate(word.text.charCodeAt(end))) end--;
      }
      if (id === undefined) return unknown();
      found.push({ id, piece: this.vocab[id], start: units[at].start, end: units[end - 1].end });
      at = end;
    }
    out.push(...found);
  }
}

const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** A basic word: its normalised text, and for each of its code units the original span it came from. */
interface BasicWord {
  text: string;
  start: number;
  end: number;
  units: { start: number; end: number }[];
}

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

const PUNCTUATION = /^\p{P}$/u;
function isPunctuation(cp: number, ch: string): boolean {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return PUNCTUATION.test(ch);
}

const WHITESPACE = /^\s$/u;
const CONTROL = /^[\p{Cc}\p{Cf}]$/u;
const MARK = /\p{Mn}/gu;

/** The basic step: words with their normalised text and original offsets. */
export function basicWords(text: string, lowercase: boolean): BasicWord[] {
  const words: BasicWord[] = [];
  let current: BasicWord | null = null;
  const close = () => {
    if (current && current.text) words.push(current);
    current = null;
  };
  let offset = 0;
  // A dropped character inside a word (a joiner, a variation selector, an accent on its own) stays in its span.
  const extend = () => {
    const word = current as BasicWord | null;
    if (!word) return;
    word.end = offset;
    word.units[word.units.length - 1].end = offset;
  };
  for (const ch of text) {
    const start = offset;
    offset += ch.length;
    const cp = ch.codePointAt(0)!;
    if (WHITESPACE.test(ch)) {
      close();
      continue;
    }
    const normal = cp === 0 || cp === 0xfffd || CONTROL.test(ch) ? '' : lowercase ? ch.toLowerCase().normalize('NFD').replace(MARK, '') : ch;
    if (!normal) {
      extend();
      continue;
    }
    const alone = isCjk(cp) || isPunctuation(cp, ch);
    if (alone) close();
    const word: BasicWord = current ?? { text: '', start, end: start, units: [] };
    current = word;
    word.text += normal;
    word.end = offset;
    for (let i = 0; i < normal.length; i++) word.units.push({ start, end: offset });
    if (alone) close();
  }
  close();
  return words;
}
