import type { ModelSession } from '../runtime/runtime';
import type { TaggedSpan } from './tagger';
import { DEMAND_TYPES, type DemandType } from './types';
import { WordPieceTokenizer, type WordPieceToken } from './wordpiece';

/**
 * Brands' own BERT-style token classifiers (exported to ONNX with inputs
 * `input_ids`, `attention_mask`, `token_type_ids` and output `logits`
 * [batch, tokens, labels]), registered with `allied model register`:
 * WordPiece tokenisation with offsets (wordpiece.ts), the model over
 * [CLS] tokens [SEP] windows, and the labels read back as spans of the
 * original text.
 *
 * Decoding, word by word (a word being what the basic step makes: a Latin
 * word, a number, one CJK character, one punctuation mark): a word takes the
 * label of highest logit at its first token; B-X starts an entity of type
 * X, I-X continues the entity before it when that is of type X and starts
 * one otherwise, O ends it. An entity covers its words from the first
 * character of the first to the last of the last, and its confidence is the
 * mean softmax probability of its words' labels.
 */
export const BERT_FORMAT = 'allied.ner.bert.v1';

export interface BertMeta {
  format: typeof BERT_FORMAT;
  vocab: string[];
  /** The model's labels by output index: "O", "B-TOPIC", "I-TOPIC", ... */
  labels: string[];
  lowercase: boolean;
  /** Tokens per window, [CLS] and [SEP] included. */
  maxTokens: number;
  inputType: 'int64' | 'int32';
}

/** Label type names other exports use for Allied's types. */
const TYPE_ALIASES: Record<string, DemandType> = { PER: 'PERSON', PERSON: 'PERSON', LOCATION: 'LOC', GPE: 'LOC', ORGANIZATION: 'ORG', ORGANISATION: 'ORG' };

export interface ReadLabel {
  begin: boolean;
  type: DemandType | null;
}

/** A label as decoding reads it; anything but O, B-<type> and I-<type> of a known type is refused, with the reason. */
export function readLabel(label: string): ReadLabel {
  if (label === 'O') return { begin: false, type: null };
  const m = /^([BI])-(.+)$/.exec(label);
  if (!m) throw new RangeError(`label "${label}" is not O, B-<type> or I-<type>`);
  const raw = m[2].toUpperCase();
  const type = (DEMAND_TYPES as readonly string[]).includes(raw) ? (raw as DemandType) : TYPE_ALIASES[raw];
  if (!type) throw new RangeError(`label "${label}": ${m[2]} is not one of ${DEMAND_TYPES.join(', ')} (or PER, LOCATION, ORGANIZATION)`);
  return { begin: m[1] === 'B', type };
}

/**
 * labels.json as exports write it: an array of labels by index, an object
 * of index → label, or a model config with `id2label`.
 */
export function parseLabels(json: unknown): string[] {
  const source = json && typeof json === 'object' && !Array.isArray(json) && 'id2label' in json ? (json as { id2label: unknown }).id2label : json;
  let labels: unknown[];
  if (Array.isArray(source)) labels = source;
  else if (source && typeof source === 'object') {
    const entries = Object.entries(source as Record<string, unknown>);
    labels = new Array(entries.length);
    for (const [key, value] of entries) {
      const index = Number(key);
      if (!Number.isInteger(index) || index < 0 || index >= entries.length) throw new RangeError(`labels: "${key}" is not an index 0..${entries.length - 1}`);
      labels[index] = value;
    }
  } else throw new RangeError('labels must be an array of labels, an object of index to label, or a config with id2label');
  if (labels.length === 0) throw new RangeError('labels is empty');
  labels.forEach((l, i) => {
    if (typeof l !== 'string') throw new RangeError(`labels: index ${i} is not a string`);
    readLabel(l);
  });
  if (!labels.includes('O')) throw new RangeError('labels has no "O"');
  return labels as string[];
}

interface Window {
  text: number;
  tokens: WordPieceToken[];
}

/** Windows per model call: a batch of 4,000-character texts is many windows, and attention memory grows with each. */
export const WINDOWS_PER_CALL = 32;

/**
 * A text's tokens in windows of at most `per`, each ending where a word
 * ends (before a token that does not start with ##), so that no word is
 * split between two windows; a single word longer than a window is cut.
 */
export function windowsOf(tokens: readonly WordPieceToken[], per: number): WordPieceToken[][] {
  const out: WordPieceToken[][] = [];
  let start = 0;
  while (start < tokens.length) {
    let end = Math.min(tokens.length, start + per);
    if (end < tokens.length) {
      let cut = end;
      while (cut > start + 1 && tokens[cut].piece.startsWith('##')) cut--;
      if (!tokens[cut].piece.startsWith('##')) end = cut;
    }
    out.push(tokens.slice(start, end));
    start = end;
  }
  return out;
}

/** Tags texts with a registered BERT graph, in calls of at most WINDOWS_PER_CALL windows. */
export async function tagWithBert(session: ModelSession, meta: BertMeta, tokenizer: WordPieceTokenizer, texts: readonly string[]): Promise<TaggedSpan[][]> {
  const per = Math.max(1, meta.maxTokens - 2);
  const windows: Window[] = [];
  texts.forEach((text, t) => {
    for (const tokens of windowsOf(tokenizer.tokenize(text), per)) windows.push({ text: t, tokens });
  });
  const out: TaggedSpan[][] = texts.map(() => []);
  for (let i = 0; i < windows.length; i += WINDOWS_PER_CALL) await tagWindows(session, meta, tokenizer, windows.slice(i, i + WINDOWS_PER_CALL), out);
  return out;
}

async function tagWindows(session: ModelSession, meta: BertMeta, tokenizer: WordPieceTokenizer, windows: readonly Window[], out: TaggedSpan[][]): Promise<void> {
  const T = Math.max(...windows.map((w) => w.tokens.length)) + 2;
  const B = windows.length;
  const ids = new Array<number>(B * T).fill(tokenizer.padId);
  const mask = new Array<number>(B * T).fill(0);
  windows.forEach((w, b) => {
    const row = [tokenizer.clsId, ...w.tokens.map((t) => t.id), tokenizer.sepId];
    row.forEach((id, k) => {
      ids[b * T + k] = id;
      mask[b * T + k] = 1;
    });
  });
  const tensor = (values: number[]) =>
    meta.inputType === 'int64' ? { data: BigInt64Array.from(values, (v) => BigInt(v)), dims: [B, T] } : { data: Int32Array.from(values), dims: [B, T] };
  const result = await session.run({ input_ids: tensor(ids), attention_mask: tensor(mask), token_type_ids: tensor(new Array<number>(B * T).fill(0)) });
  const logits = result.logits;
  if (!logits || logits.dims.length !== 3 || logits.dims[0] !== B || logits.dims[1] !== T || logits.dims[2] !== meta.labels.length) {
    throw new Error(`the model's logits are [${logits?.dims.join(', ') ?? 'missing'}], not [${B}, ${T}, ${meta.labels.length}] (batch, tokens, labels)`);
  }
  const L = meta.labels.length;
  const read = meta.labels.map(readLabel);
  windows.forEach((w, b) => {
    const words = decodeWords(w.tokens, (k) => logits.data.subarray((b * T + k + 1) * L, (b * T + k + 2) * L) as Float32Array, read);
    out[w.text].push(...words);
  });
}

/** The word-level decoding described above, over one window's tokens. */
function decodeWords(tokens: readonly WordPieceToken[], logitsOf: (token: number) => Float32Array, labels: readonly ReadLabel[]): TaggedSpan[] {
  const spans: TaggedSpan[] = [];
  let open: { type: DemandType; start: number; end: number; p: number; words: number } | null = null;
  const close = () => {
    if (open) spans.push({ type: open.type, start: open.start, end: open.end, confidence: open.p / open.words });
    open = null;
  };
  for (let k = 0; k < tokens.length; k++) {
    const token = tokens[k];
    if (token.piece.startsWith('##') && k > 0) {
      if (open) open.end = token.end;
      continue;
    }
    // A word is its first token and the ## tokens after it; its label is read at the first.
    const z = logitsOf(k);
    let best = 0;
    for (let j = 1; j < z.length; j++) if (z[j] > z[best]) best = j;
    let sum = 0;
    for (let j = 0; j < z.length; j++) sum += Math.exp(z[j] - z[best]);
    const p = 1 / sum;
    const label = labels[best];
    if (label.type === null) {
      close();
      continue;
    }
    const current = open as { type: DemandType; start: number; end: number; p: number; words: number } | null;
    if (current && !label.begin && current.type === label.type) {
      current.end = token.end;
      current.p += p;
      current.words++;
    } else {
      close();
      open = { type: label.type, start: token.start, end: token.end, p, words: 1 };
    }
  }
  close();
  return spans;
}
