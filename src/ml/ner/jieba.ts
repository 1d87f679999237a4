/**
 * One lazily built jieba segmenter for demand extraction (its dictionary
 * takes about half a second to load), its part-of-speech tags read as
 * PERSON (nr, nrfg), LOC (ns) and ORG (nt), and the names its dictionary
 * tags so, for the corpus to draw names outside Allied's own lists.
 *
 * jieba's tags are noisy ("万象更新" is tagged a person, "三鲜" a place), so a
 * tagged word counts only when it looks like its type: a person starts
 * with a Chinese surname and has two to four characters; a place or an
 * organisation is in the lexicon or ends the way such names end (市, 区,
 * 县…; 大学, 公司, 俱乐部…).
 */

import { createRequire } from 'node:module';
import type { Jieba, TaggedWord } from '@node-rs/jieba';
import { CHINESE_GIVEN_NAME_CHARS, CHINESE_GIVEN_NAMES, CHINESE_SURNAMES, lexiconEntries } from './lexicon';
import type { Span } from './types';

// Loaded on first use: the native module and its 5 MB dictionary stay out of
// the processes that never segment Chinese.
const load = createRequire(__filename);
const dictionary = () => (load('@node-rs/jieba/dict') as typeof import('@node-rs/jieba/dict')).dict;
let instance: Jieba | null = null;

/** The shared segmenter, built on first use. */
export function jieba(): Jieba {
  if (!instance) {
    const { Jieba: JiebaClass } = load('@node-rs/jieba') as typeof import('@node-rs/jieba');
    instance = JiebaClass.withDict(dictionary());
  }
  return instance;
}

export interface PlacedWord extends TaggedWord {
  start: number;
  end: number;
}

/** jieba's words of `text` with their UTF-16 offsets (its words put together are the text). */
export function tagWords(text: string): PlacedWord[] {
  const out: PlacedWord[] = [];
  let at = 0;
  for (const { word, tag } of jieba().tag(text)) {
    const start = text.startsWith(word, at) ? at : text.indexOf(word, at);
    if (start < 0) break;
    out.push({ word, tag, start, end: start + word.length });
    at = start + word.length;
  }
  return out;
}

export type NameType = 'PERSON' | 'ORG' | 'LOC';

/** The entity type a jieba tag stands for, or null. */
export function typeOfTag(tag: string): NameType | null {
  if (tag === 'nr' || tag === 'nrfg') return 'PERSON';
  if (tag === 'ns') return 'LOC';
  if (tag === 'nt') return 'ORG';
  return null;
}

const HAN_ONLY = /^\p{Script=Han}+$/u;
const SURNAMES = new Set(CHINESE_SURNAMES);
const PLACE_END = /(?:省|市|县|区|镇|乡|州|村|岛|湾|街道|自治区|新区|开发区)$/;
const ORG_END = /(?:大学|学院|学校|中学|小学|公司|集团|银行|俱乐部|协会|学会|联合会|委员会|出版社|医院|研究院|研究所|基金会|电视台|报社|联盟|联赛|工作室|中心)$/;
/** How a title, a relation or a place ends: "秦夫人", "岳师伯", "袁将军", "金溪县" are no one's name. */
const NOT_A_GIVEN_NAME = /(?:博士|老师|教授|医生|同学|女士|经理|师兄|师姐|夫人|公子|将军|太守|老大|大哥|大姐|先生|小姐|太太|老爷|师傅|师父|师伯|师叔|大人|公主|皇帝|皇后|王爷|主任|书记|县长|市长|局长|校长|帝|后|妃|王|公|侯|君|氏|人|姐|哥|叔|伯|爷|嫂|婆|岛|县|镇|河|门|山|谷|村|路|街|湖|江|州|城|寺|庙|桥|宫|殿|楼|阁|堂|园)$/;
const NUMERALS = /[一二三四五六七八九十百千万]/g;

interface DictionaryEntry {
  word: string;
  freq: number;
  type: NameType;
}

let dictionaryEntries: DictionaryEntry[] | null = null;
/** The entries of jieba's dictionary tagged as names, parsed once. */
function nameEntries(): DictionaryEntry[] {
  if (!dictionaryEntries) {
    dictionaryEntries = [];
    for (const line of Buffer.from(dictionary()).toString('utf8').split('\n')) {
      const a = line.indexOf(' ');
      const b = line.indexOf(' ', a + 1);
      const type = b > 0 ? typeOfTag(line.slice(b + 1).trim()) : null;
      if (type) dictionaryEntries.push({ word: line.slice(0, a), freq: Number(line.slice(a + 1, b)), type });
    }
  }
  return dictionaryEntries;
}

let givenChars: Set<string> | null = null;
/**
 * Characters given names are made of: those in 40 or more of the
 * dictionary's two- and three-character person names, and Allied's own.
 */
function givenNameChars(): Set<string> {
  if (!givenChars) {
    const count = new Map<string, number>();
    for (const e of nameEntries()) {
      if (e.type !== 'PERSON' || e.word.length < 2 || e.word.length > 3 || !SURNAMES.has(e.word[0])) continue;
      for (const c of e.word.slice(1)) count.set(c, (count.get(c) ?? 0) + 1);
    }
    givenChars = new Set([...CHINESE_GIVEN_NAME_CHARS, ...CHINESE_GIVEN_NAMES.join('')]);
    for (const [c, n] of count) if (n >= 40) givenChars.add(c);
  }
  return givenChars;
}

let known: Map<string, NameType> | null = null;
function knownNames(): Map<string, NameType> {
  if (!known) {
    known = new Map();
    for (const type of ['PERSON', 'ORG', 'LOC'] as const) for (const e of lexiconEntries(type)) known.set(e.text, type);
  }
  return known;
}

/** Whether `word`, tagged as `type` by jieba, looks like a name of that type. */
export function plausibleName(type: NameType, word: string): boolean {
  const listed = knownNames().get(word);
  if (listed) return listed === type;
  if (!HAN_ONLY.test(word)) return false;
  switch (type) {
    case 'PERSON': {
      const surname = word.length >= 3 && SURNAMES.has(word.slice(0, 2)) ? 2 : SURNAMES.has(word[0]) ? 1 : 0;
      const given = word.slice(surname);
      const chars = givenNameChars();
      return surname > 0 && given.length >= 1 && given.length <= 2 && [...given].every((c) => chars.has(c)) && !NOT_A_GIVEN_NAME.test(word);
    }
    case 'LOC':
      return word.length >= 2 && word.length <= 8 && PLACE_END.test(word) && (word.match(NUMERALS)?.length ?? 0) < 2;
    case 'ORG':
      return word.length >= 3 && word.length <= 14 && ORG_END.test(word);
  }
}

/** The PERSON, ORG and LOC spans jieba tags in `text`, those that look like names. */
export function jiebaNames(text: string): Span[] {
  const spans: Span[] = [];
  for (const w of tagWords(text)) {
    const type = typeOfTag(w.tag);
    if (type && plausibleName(type, w.word)) spans.push({ type, start: w.start, end: w.end });
  }
  return spans;
}

let vocabulary: Record<NameType, string[]> | null = null;

/**
 * The words jieba's dictionary tags as names and that look like names,
 * by type, in dictionary order: thousands of people, places and
 * organisations none of Allied's lists holds.
 */
export function dictionaryNames(): Readonly<Record<NameType, readonly string[]>> {
  if (!vocabulary) {
    const out: Record<NameType, string[]> = { PERSON: [], ORG: [], LOC: [] };
    for (const e of nameEntries()) {
      // Two-character "names" in the dictionary are often words (闻言, 马子): people are drawn from three characters up.
      if (e.type === 'PERSON' && e.word.length < 3) continue;
      if (e.freq >= 2 && !knownNames().has(e.word) && plausibleName(e.type, e.word)) out[e.type].push(e.word);
    }
    vocabulary = out;
  }
  return vocabulary;
}

/** jieba's tags of words that are never a demand or a name: verbs, adjectives, adverbs, idioms, conjunctions, pronouns, particles. */
const PLAIN_TAGS = new Set(['v', 'vd', 'a', 'ad', 'an', 'd', 'l', 'i', 'c', 'r', 'z', 'u', 'p', 'y', 'e', 'o']);
let plain: string[] | null = null;

/**
 * Common Chinese words of the tags above (frequency 300 or more in jieba's
 * dictionary, Han characters only, one to four of them): the everyday
 * words learners' feedback is mostly made of, for the corpus to put around
 * its entities as unlabelled clauses, so that the tagger learns that a
 * character it seldom saw is not for that a name.
 */
export function plainWords(): readonly string[] {
  if (!plain) {
    plain = [];
    for (const line of Buffer.from(dictionary()).toString('utf8').split('\n')) {
      const [word, freq, tag] = line.trim().split(' ');
      if (tag && PLAIN_TAGS.has(tag) && Number(freq) >= 300 && word.length <= 4 && HAN_ONLY.test(word)) plain.push(word);
    }
  }
  return plain;
}
