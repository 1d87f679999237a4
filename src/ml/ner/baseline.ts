/**
 * The gazetteer-and-pattern baseline of demand extraction, the mark a
 * learned tagger must beat. Nothing in it is fitted to data:
 *
 * - the lexicon's phrases and a brand's own gazetteer, matched
 *   case-insensitively and width-insensitively, Latin-script phrases only
 *   as whole words;
 * - patterns for amounts (a number with a currency or a bound word:
 *   "200元以内", "under $50", "100-200块"; a bare number after 预算/budget),
 *   clock times ("晚上8点以后", "after 8pm"), people named by a title
 *   ("王老师" → 王, "Coach Li" → Li), Chinese names of a listed surname
 *   and given name, Western first names and first-plus-last names;
 * - jieba's part-of-speech tags for PERSON (nr), LOC (ns) and ORG (nt),
 *   where the word looks like a name of that type.
 *
 * Candidates are taken longest first (on a tie, a brand's gazetteer before
 * the lexicon and the patterns, those before names made of lists, those
 * before jieba; then leftmost), never overlapping a span already taken.
 */

import type { Gazetteer } from './corpus';
import { jiebaNames } from './jieba';
import {
  BUDGET_BOUNDS,
  BUDGET_CUES,
  CHINESE_GIVEN_NAMES,
  CHINESE_SURNAMES,
  CURRENCY_MARKS,
  TIME_EVERY_DAY_ZH,
  TIME_WEEKDAY_ZH,
  TIME_WEEKEND_ZH,
  WESTERN_FIRST_NAMES,
  WESTERN_LAST_NAMES,
  lexiconEntries,
} from './lexicon';
import { atWordBoundary, foldForMatch } from './normalise';
import { DEMAND_TYPES, type DemandType, type Span } from './types';

interface Candidate extends Span {
  priority: number;
}

const PRIORITY = { gazetteer: 4, lexicon: 3, pattern: 3, listedName: 2, jieba: 1 } as const;

// ---------------------------------------------------------------------------
// Phrase matching: a trie over folded text.

interface TrieNode {
  next: Map<string, TrieNode>;
  type?: DemandType;
}

const newNode = (): TrieNode => ({ next: new Map() });

function insert(root: TrieNode, phrase: string, type: DemandType): void {
  const key = foldForMatch(phrase.trim());
  if (!key) return;
  let node = root;
  for (const ch of key) {
    let child = node.next.get(ch);
    if (!child) node.next.set(ch, (child = newNode()));
    node = child;
  }
  // The first type a phrase is given stands (the lexicon keeps its phrases under one type).
  node.type ??= type;
}

/** Every phrase of the trie that starts at some position of `folded` and stands as a whole word there. */
function matchTrie(root: TrieNode, folded: string, priority: number, out: Candidate[]): void {
  for (let start = 0; start < folded.length; start++) {
    let node: TrieNode | undefined = root;
    for (let i = start; i < folded.length; i++) {
      node = node.next.get(folded[i]);
      if (!node) break;
      if (node.type && atWordBoundary(folded, start, i + 1 - start)) out.push({ type: node.type, start, end: i + 1, priority });
    }
  }
}

let lexiconTrie: TrieNode | null = null;
function lexicon(): TrieNode {
  if (!lexiconTrie) {
    lexiconTrie = newNode();
    for (const type of DEMAND_TYPES) for (const e of lexiconEntries(type)) insert(lexiconTrie, e.text, type);
  }
  return lexiconTrie;
}

const gazetteerTries = new WeakMap<Gazetteer, TrieNode>();
function gazetteerTrie(g: Gazetteer): TrieNode {
  let trie = gazetteerTries.get(g);
  if (!trie) {
    trie = newNode();
    const lists: [readonly string[] | undefined, DemandType][] = [[g.titles, 'TOPIC'], [g.topics, 'TOPIC'], [g.people, 'PERSON'], [g.organisations, 'ORG'], [g.places, 'LOC']];
    for (const [list, type] of lists) for (const phrase of list ?? []) insert(trie, phrase, type);
    gazetteerTries.set(g, trie);
  }
  return trie;
}

// ---------------------------------------------------------------------------
// Patterns, over the folded text.

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const alternation = (list: readonly string[]) =>
  [...new Set(list.map((s) => foldForMatch(s)))].sort((a, b) => b.length - a.length).map(escape).join('|');

const bounds = (key: 'maxBefore' | 'minBefore' | 'approxBefore' | 'maxAfter' | 'minAfter' | 'approxAfter' | 'range') => [...BUDGET_BOUNDS.zh[key], ...BUDGET_BOUNDS.en[key]];
const CHINESE_NUMBER = '[零〇一二两三四五六七八九十百千万几壹贰叁肆伍陆柒捌玖拾佰仟]+';
const ENGLISH_DIGIT = `(?:${alternation('zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety'.split(' '))})`;
const ENGLISH_NUMBER = `(?:(?:a|${ENGLISH_DIGIT})(?:[\\s-](?:and\\s)?(?:${ENGLISH_DIGIT}|hundred|thousand))*)`;
const NUMBER = `(?:\\d+(?:[.,]\\d+)*(?:\\s?[kw](?![a-z])|[万千百])?(?:\\d(?!\\d))?|${CHINESE_NUMBER}|${ENGLISH_NUMBER})`;
const CURRENCY_BEFORE = alternation(Object.values(CURRENCY_MARKS).flatMap((m) => m.before));
const CURRENCY_AFTER = alternation(Object.values(CURRENCY_MARKS).flatMap((m) => m.after));
const BOUND_BEFORE = alternation([...bounds('maxBefore'), ...bounds('minBefore'), ...bounds('approxBefore')]);
const BOUND_AFTER = alternation([...bounds('maxAfter'), ...bounds('minAfter'), ...bounds('approxAfter')]);
const RANGE = `\\s?(?:${alternation(bounds('range'))})\\s?`;
const AMOUNT = `(?:(?:${CURRENCY_BEFORE})\\s?)?${NUMBER}(?:${RANGE}(?:(?:${CURRENCY_BEFORE})\\s?)?${NUMBER})?(?:\\s?(?:${CURRENCY_AFTER}))?`;
const BUDGET = new RegExp(`(?:between\\s+${AMOUNT}\\s+and\\s+${AMOUNT})|(?:(?:${BOUND_BEFORE})\\s?)?${AMOUNT}(?:\\s?(?:${BOUND_AFTER}))?`, 'g');
const HAS_CURRENCY = new RegExp(`${CURRENCY_BEFORE}|${CURRENCY_AFTER}`);
const HAS_BOUND = new RegExp(`${BOUND_BEFORE}|${BOUND_AFTER}|between`);
const CUED_NUMBER = new RegExp(`(?:${alternation(BUDGET_CUES)})(?:是|在|大概|大约|is|of|:|\\s)*(\\d+(?:\\.\\d+)?(?:\\s?[kw](?![a-z])|[万千])?|[零〇一二两三四五六七八九十百千万]+)`, 'gd');
/** What makes a bounded number a count rather than an amount: "under 5 minutes", "3天以内". */
const NOT_MONEY = /^\s?(?:[a-z]|天|个|分钟|小时|岁|次|节|人|年|月|周|公里|点|号|楼|%)/;

const DAYS_ZH = alternation([...TIME_WEEKEND_ZH, ...TIME_WEEKDAY_ZH, ...TIME_EVERY_DAY_ZH, '平时']);
const PARTS_ZH = '晚上|早上|上午|下午|中午|傍晚|凌晨|夜里|早晨';
const AFTER_CLOCK_ZH = '(?:以后|之后|左右|以前|之前|前|后)';
/**
 * A Chinese clock time. A bare hour in Chinese numerals needs a part of
 * the day or a word after it: "一点" alone is "a little", "一点以后" an hour.
 */
const CLOCK_ZH = new RegExp(
  `(?:${DAYS_ZH})?(?:(?:${PARTS_ZH})(?:\\d{1,2}|[一二两三四五六七八九十]{1,3})|\\d{1,2})(?:点|:\\d{2})(?:半|钟|\\d{1,2}分)?${AFTER_CLOCK_ZH}?` +
    `|(?:${DAYS_ZH})?[一二两三四五六七八九十]{1,3}点(?:半|钟)?${AFTER_CLOCK_ZH}`,
  'g',
);
const CLOCK_EN = /(?:(?:saturdays?|sundays?|weekends?|weekdays?|mondays?|tuesdays?|wednesdays?|thursdays?|fridays?)\s)?(?:(?:after|before|around|at|from|by)\s)?\d{1,2}(?::\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.)/g;

const SURNAME_SET = new Set(CHINESE_SURNAMES);
const GIVEN_SET = new Set(CHINESE_GIVEN_NAMES.filter((g) => g.length === 2));
const SURNAME_ALT = alternation(CHINESE_SURNAMES);
/** A surname before a title ("王老师", "李教练"), after something other than a Chinese word ("历史老师" is no one). */
const TITLED_ZH = new RegExp(`(?<!(?![跟和与向的是给请找问让位个说被对把从们])\\p{Script=Han})(${SURNAME_ALT})(?=老师|教练|教授|导师|老板|总监|sir|姐|哥)`, 'gdu');
const TITLED_EN = new RegExp(`\\b(?:coach|mr\\.?|ms\\.?|mrs\\.?|dr\\.?|teacher|prof\\.?|professor|miss)\\s+(${alternation(WESTERN_LAST_NAMES)})\\b`, 'gd');
const TITLED_EN_CAPITALISED = /\b(?:Coach|Mr\.?|Ms\.?|Mrs\.?|Dr\.?|Teacher|Prof\.?|Professor|Miss)\s+([A-Z][a-z]+)\b/dg;
const FULL_NAME_EN = new RegExp(`\\b(?:${alternation(WESTERN_FIRST_NAMES)})\\s+(?:${alternation(WESTERN_LAST_NAMES)})\\b`, 'g');
const FIRST_NAMES = (() => {
  const root = newNode();
  for (const n of WESTERN_FIRST_NAMES) insert(root, n, 'PERSON');
  return root;
})();

function trimmedMatch(folded: string, start: number, end: number): [number, number] {
  while (start < end && /\s/.test(folded[start])) start++;
  while (end > start && /\s/.test(folded[end - 1])) end--;
  return [start, end];
}

const ENGLISH_NUMBER_WORD = new RegExp(`\\b${ENGLISH_DIGIT}\\b|hundred|thousand`);

/** Whether a match of BUDGET is an amount: with a currency or a bound, a number that is one, and no unit of count after it. */
function isAmount(folded: string, start: number, end: number): boolean {
  const s = folded.slice(start, end);
  const currency = HAS_CURRENCY.test(s);
  if (!currency && !HAS_BOUND.test(s)) return false;
  // Chinese numerals count only with a unit: 三百块 is an amount, 一块 is "together"; "a" alone is no number.
  if (!/\d/.test(s) && !/[十百千万拾佰仟]/.test(s) && !ENGLISH_NUMBER_WORD.test(s)) return false;
  if (!currency && NOT_MONEY.test(folded.slice(end))) return false;
  return atWordBoundary(folded, start, end - start);
}

function budgets(folded: string, out: Candidate[]): void {
  const re = new RegExp(BUDGET.source, 'g');
  for (let m = re.exec(folded); m; m = re.exec(folded)) {
    const [start, end] = trimmedMatch(folded, m.index, m.index + m[0].length);
    if (start < end && isAmount(folded, start, end)) out.push({ type: 'BUDGET', start, end, priority: PRIORITY.pattern });
    // A refused match may hide a good one inside it ("under ninety" in "under ninety-nine bucks"): look again one along.
    else re.lastIndex = m.index + 1;
  }
  for (const m of folded.matchAll(CUED_NUMBER)) {
    const [start, end] = m.indices![1];
    const chineseWithoutUnit = !/\d/.test(folded[start]) && !/[十百千万]/.test(folded.slice(start, end));
    if (!chineseWithoutUnit && !NOT_MONEY.test(folded.slice(end)) && atWordBoundary(folded, start, end - start)) out.push({ type: 'BUDGET', start, end, priority: PRIORITY.pattern });
  }
}

function times(folded: string, out: Candidate[]): void {
  for (const re of [CLOCK_ZH, CLOCK_EN]) {
    for (const m of folded.matchAll(re)) {
      const start = m.index ?? 0;
      const end = start + m[0].length;
      if (atWordBoundary(folded, start, end - start)) out.push({ type: 'TIME', start, end, priority: PRIORITY.pattern });
    }
  }
}

function people(text: string, folded: string, out: Candidate[]): void {
  const group = (m: RegExpMatchArray) => {
    const [start, end] = m.indices![1];
    out.push({ type: 'PERSON', start, end, priority: PRIORITY.pattern });
  };
  for (const m of folded.matchAll(TITLED_ZH)) group(m);
  for (const m of folded.matchAll(TITLED_EN)) group(m);
  for (const m of text.matchAll(TITLED_EN_CAPITALISED)) group(m);
  for (const m of folded.matchAll(FULL_NAME_EN)) {
    const start = m.index ?? 0;
    out.push({ type: 'PERSON', start, end: start + m[0].length, priority: PRIORITY.listedName });
  }
  matchTrie(FIRST_NAMES, folded, PRIORITY.listedName, out);
  // A listed surname (one or two characters) and a listed two-character given name.
  for (let i = 0; i < text.length; i++) {
    for (const len of [1, 2]) {
      if (SURNAME_SET.has(text.slice(i, i + len)) && GIVEN_SET.has(text.slice(i + len, i + len + 2))) {
        out.push({ type: 'PERSON', start: i, end: i + len + 2, priority: PRIORITY.listedName });
      }
    }
  }
}

// ---------------------------------------------------------------------------

/** Takes candidates longest first, then by priority, then leftmost, skipping any that overlap one taken. */
function select(candidates: Candidate[], length: number): Span[] {
  candidates.sort((a, b) => b.end - b.start - (a.end - a.start) || b.priority - a.priority || a.start - b.start);
  const taken = new Uint8Array(length);
  const out: Span[] = [];
  for (const c of candidates) {
    let free = true;
    for (let i = c.start; i < c.end && free; i++) if (taken[i]) free = false;
    if (!free) continue;
    taken.fill(1, c.start, c.end);
    out.push({ type: c.type, start: c.start, end: c.end });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** The demand entities of `text` by gazetteers and patterns alone, in text order, none overlapping. */
export function extractWithPatterns(text: string, gazetteer?: Gazetteer): Span[] {
  if (!text) return [];
  const folded = foldForMatch(text);
  const candidates: Candidate[] = [];
  if (gazetteer) matchTrie(gazetteerTrie(gazetteer), folded, PRIORITY.gazetteer, candidates);
  matchTrie(lexicon(), folded, PRIORITY.lexicon, candidates);
  budgets(folded, candidates);
  times(folded, candidates);
  people(text, folded, candidates);
  if (/\p{Script=Han}/u.test(text)) for (const s of jiebaNames(text)) candidates.push({ ...s, priority: PRIORITY.jieba });
  return select(candidates, text.length);
}
