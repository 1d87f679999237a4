/**
 * From an entity's text to the value Allied acts on: a budget in minor
 * units, a course level, a course format, a coarse time slot, a canonical
 * topic or name.
 *
 * BUDGET → `{ currency, minMinor?, maxMinor? }`, amounts in the currency's
 * minor units (fen, cents; yen have none):
 * - a ceiling ("200元以内", "under $50", "不超过三百块", "$30 max") sets maxMinor;
 * - a floor ("500以上", "at least 100 dollars", "99起") sets minMinor;
 * - a range ("100-200块", "between $100 and $200", "一到两万", "两三百") sets both;
 * - an estimate ("500左右", "around $300", "£20ish") sets both, ±20%;
 * - a bare amount ("三百块", "$80") is read as a ceiling: learners name
 *   what they are willing to pay, and a cheaper course fits them too;
 * - free ("免费", "for free") is a ceiling of 0.
 * Numbers: Arabic ("1,299", "9.9"), English words ("fifty bucks"), Chinese ("两百", "三千五" = 3500,
 * "一百五" = 150, "一千零五十", financial 壹贰叁), with multipliers
 * ("1.5k", "2万", "1万5" = 15000, "10w"), approximate pairs ("两三百" =
 * 200–300, "几百" = 200–900). The currency is the one written; with none,
 * `options.defaultCurrency`, else USD when the text has Latin letters
 * ("under 50") and CNY otherwise ("200以内").
 *
 * LEVEL → BEGINNER | INTERMEDIATE | ADVANCED; FORMAT → the contract's
 * CourseFormat (VIDEO AUDIO ARTICLE LIVE BUNDLE; in-person and one-on-one
 * teaching is LIVE, a series or membership BUNDLE). The earliest cue in
 * the text decides, so a range reads as its lower end ("从入门到精通" →
 * BEGINNER, "intermediate to advanced" → INTERMEDIATE) and a longer cue
 * wins where two start together ("有一定基础" → INTERMEDIATE, not 基础).
 *
 * TIME → one of TIME_SLOTS, from cues for the day (weekend, weekday, every
 * day) and the part of the day (evening, morning, lunch, afternoon or
 * daytime), or an hour:
 * - a weekend cue: WEEKEND_EVENING with an evening cue, else WEEKEND
 *   (a weekend morning or afternoon is WEEKEND; Friday night counts as
 *   a weekend evening);
 * - a weekday cue: WEEKDAY_EVENING, WEEKDAY_MORNING, LUNCH with the part
 *   of the day, else WEEKDAY_DAYTIME ("after work" is a weekday evening,
 *   "before work" a weekday morning);
 * - a part of the day alone: EVENING, MORNING, LUNCH; an afternoon or
 *   "daytime" alone is WEEKDAY_DAYTIME;
 * - every day with no part of the day ("每天", "daily", "30 minutes a
 *   day") is DAILY ("每天晚上" is EVENING);
 * - "anytime", "碎片时间", "self-paced" and the like are FLEXIBLE.
 * Hours: 5–10 morning, 11–13 lunch, 14–17 daytime, 18–4 evening; "pm",
 * 晚上 or a 24-hour clock say which half of the day; a bare Chinese hour
 * "8点以后" of 6–11 followed by 以后/之后/后 is read as the evening, a
 * bare 1–5 as the afternoon.
 */

import { CourseFormat, CourseLevel } from '../../entities/enums';
import {
  BUDGET_BOUNDS,
  CHINESE_DIGITS,
  CHINESE_UNITS,
  CURRENCY_MARKS,
  FORMAT_PHRASES,
  FREE_PHRASES,
  LEVEL_PHRASES,
  MINOR_DIGITS,
  lexiconEntries,
  type Currency,
} from './lexicon';
import type { DemandType } from './types';

export type { Currency } from './lexicon';

export interface Budget {
  currency: Currency;
  minMinor?: number;
  maxMinor?: number;
}

export const TIME_SLOTS = [
  'WEEKDAY_EVENING', 'WEEKDAY_MORNING', 'WEEKDAY_DAYTIME', 'WEEKEND', 'WEEKEND_EVENING',
  'EVENING', 'MORNING', 'LUNCH', 'DAILY', 'FLEXIBLE',
] as const;
export type TimeSlot = (typeof TIME_SLOTS)[number];

export type NormalisedValue = Budget | CourseLevel | CourseFormat | TimeSlot | string;

export interface NormaliseOptions {
  /** BUDGET: the currency of an amount that names none. */
  defaultCurrency?: Currency;
}

// ---------------------------------------------------------------------------
// Folding: the same number of UTF-16 code units in and out, so offsets into
// the folded text are offsets into the original.

/** Full-width ASCII forms to ASCII, the ideographic space to a space, ￥ to ¥. */
export function foldWidth(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xff01 && c <= 0xff5e) out += String.fromCharCode(c - 0xfee0);
    else if (c === 0x3000) out += ' ';
    else if (c === 0xffe5) out += '¥';
    else out += text[i];
  }
  return out;
}

/** foldWidth, then lower case wherever lower-casing keeps a code unit one code unit. */
export function foldForMatch(text: string): string {
  const wide = foldWidth(text);
  let out = '';
  for (let i = 0; i < wide.length; i++) {
    const ch = wide[i];
    const lower = ch.toLowerCase();
    out += lower.length === 1 ? lower : ch;
  }
  return out;
}

const LETTER = /[a-z\u00c0-\u024f]/i;
const DIGIT = /[0-9]/;
const sameKind = (a: string | undefined, b: string) => a !== undefined && ((LETTER.test(a) && LETTER.test(b)) || (DIGIT.test(a) && DIGIT.test(b)));

/**
 * Whether the `length` code units at `index` of `text` stand as a whole
 * word: not glued to a letter where they begin or end with a letter, nor
 * to a digit where they begin or end with a digit ("ml" is not in "html",
 * "101" not in "2101"; "20ish" and "200rmb" are words).
 */
export function atWordBoundary(text: string, index: number, length: number): boolean {
  return !sameKind(text[index - 1], text[index]) && !sameKind(text[index + length], text[index + length - 1]);
}

/** The first place `cue` stands in `text` as a whole word, or -1. */
function findCue(text: string, cue: string, from = 0): number {
  for (let i = text.indexOf(cue, from); i >= 0; i = text.indexOf(cue, i + 1)) {
    if (atWordBoundary(text, i, cue.length)) return i;
  }
  return -1;
}

/** The value of the cue that starts earliest in `text` (the longer where two start together), or null. */
function earliestCue<V>(text: string, cues: readonly (readonly [string, V])[]): V | null {
  let best: { at: number; length: number; value: V } | null = null;
  for (const [cue, value] of cues) {
    const at = findCue(text, cue);
    if (at < 0) continue;
    if (!best || at < best.at || (at === best.at && cue.length > best.length)) best = { at, length: cue.length, value };
  }
  return best ? best.value : null;
}

const cueList = <V extends string>(phrases: Readonly<Record<V, readonly string[]>>, extra: Readonly<Record<V, string>>) =>
  (Object.keys(phrases) as V[]).flatMap((value) =>
    [...phrases[value], ...extra[value].split(' ')].map((cue) => [foldForMatch(cue.replace(/_/g, ' ')), value] as const),
  );

// ---------------------------------------------------------------------------
// Numbers

/**
 * A number written in Arabic or Chinese numerals, or a mix ("1万5"), with
 * k/w multipliers; null where the text is not one number.
 */
export function parseNumber(text: string): number | null {
  const t = foldWidth(text).replace(/\s+/g, '').replace(/(\d),(?=\d{3}(?!\d))/g, '$1');
  if (!t) return null;
  const tokens = t.match(/\d+(?:\.\d+)?|[^\d]/g);
  if (!tokens) return null;
  let total = 0;
  let section = 0;
  let digit: number | null = null;
  let single = false;
  let lastUnit = 0;
  let afterZero = false;
  let any = false;
  for (const tok of tokens) {
    if (/^\d/.test(tok)) {
      if (digit !== null) return null;
      digit = Number(tok);
      single = /^\d$/.test(tok);
      any = true;
      continue;
    }
    const lower = tok.toLowerCase();
    if (tok in CHINESE_DIGITS) {
      const v = CHINESE_DIGITS[tok];
      any = true;
      if (v === 0) {
        if (digit !== null) return null;
        afterZero = true;
        continue;
      }
      if (digit !== null) return null;
      digit = v;
      single = true;
      continue;
    }
    const unit = lower === 'k' ? 1000 : lower === 'w' ? 10_000 : CHINESE_UNITS[tok];
    if (!unit) return null;
    any = true;
    if (unit >= 10_000) {
      const part = section + (digit ?? 0);
      total = (total + (part === 0 ? 1 : part)) * unit;
      section = 0;
    } else {
      section += (digit ?? 1) * unit;
    }
    digit = null;
    lastUnit = unit;
    afterZero = false;
  }
  if (!any) return null;
  if (digit !== null) {
    // 三千五 is 3500 and 一万二 12000: a lone digit after a unit counts in the next unit down.
    section += lastUnit >= 10 && single && !afterZero ? (digit * lastUnit) / 10 : digit;
  }
  return total + section;
}

const ENGLISH_SMALL = 'zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen'.split(' ');
const ENGLISH_TENS = 'twenty thirty forty fifty sixty seventy eighty ninety'.split(' ');
const ENGLISH_WORD = `(?:${[...ENGLISH_SMALL, ...ENGLISH_TENS, 'hundred', 'thousand', 'a'].join('|')})`;
const ENGLISH_RUN = new RegExp(`\\b${ENGLISH_WORD}(?:[\\s-]+(?:and[\\s-]+)?${ENGLISH_WORD})*\\b`, 'g');

/** A number in English words ("fifty", "twenty-five", "a hundred", "two thousand five hundred"), or null. */
export function parseEnglishNumber(text: string): number | null {
  const words = text.toLowerCase().split(/[\s-]+/).filter((w) => w && w !== 'and');
  let total = 0;
  let current = 0;
  let any = false;
  for (const [i, w] of words.entries()) {
    const small = ENGLISH_SMALL.indexOf(w);
    const tens = ENGLISH_TENS.indexOf(w);
    if (w === 'a') {
      if (words[i + 1] !== 'hundred' && words[i + 1] !== 'thousand') return null;
      current += 1;
    } else if (small >= 0) current += small;
    else if (tens >= 0) current += 20 + 10 * tens;
    else if (w === 'hundred') current = (current || 1) * 100;
    else if (w === 'thousand') {
      total += (current || 1) * 1000;
      current = 0;
    } else return null;
    any = true;
  }
  return any ? total + current : null;
}

/** English number words replaced by digits ("fifty bucks" → "50 bucks"); the rest unchanged. */
const digitsForWords = (text: string) =>
  text.replace(ENGLISH_RUN, (run) => {
    const n = run.trim() === 'a' ? null : parseEnglishNumber(run);
    return n === null ? run : String(n);
  });

// ---------------------------------------------------------------------------
// BUDGET

type Bound = 'max' | 'min' | 'approx';

const CURRENCY_CUES: readonly (readonly [string, Currency])[] = (Object.keys(CURRENCY_MARKS) as Currency[])
  .flatMap((c) => [...CURRENCY_MARKS[c].before, ...CURRENCY_MARKS[c].after].map((m) => [foldForMatch(m), c] as const))
  .sort((a, b) => b[0].length - a[0].length);

const BOUND_CUES: readonly (readonly [string, Bound])[] = (['zh', 'en'] as const)
  .flatMap((lang) => {
    const b = BUDGET_BOUNDS[lang];
    return [
      ...[...b.maxBefore, ...b.maxAfter].map((w) => [w, 'max'] as const),
      ...[...b.minBefore, ...b.minAfter].map((w) => [w, 'min'] as const),
      ...[...b.approxBefore, ...b.approxAfter].map((w) => [w, 'approx'] as const),
    ];
  })
  .map(([w, k]) => [foldForMatch(w), k] as const)
  .sort((a, b) => b[0].length - a[0].length);

const DIGIT_CHARS = Object.keys(CHINESE_DIGITS).join('');
const UNIT_CHARS = Object.keys(CHINESE_UNITS).join('');
const NUMBER_TOKEN = new RegExp(`\\d+(?:\\.\\d+)?(?:(?:\\s?[kw](?![a-z])|[${UNIT_CHARS}])(?:\\d(?!\\d))?)*|[${DIGIT_CHARS}${UNIT_CHARS}]+`, 'g');
const MULTIPLIER_END = new RegExp(`[kw千万萬仟]$`);
const PAIR = new RegExp(`([一二两三四五六七八九])([二两三四五六七八九])([十百千万])`);
const SOME = /几([十百千万])|十几/;

const startsWithCurrency = (text: string) => CURRENCY_CUES.some(([mark]) => /^[a-z]/.test(mark) && text.startsWith(mark));

function currencyOf(text: string, options?: NormaliseOptions): Currency {
  for (const [mark, currency] of CURRENCY_CUES) {
    if (findCue(text, mark) >= 0) return currency;
  }
  return options?.defaultCurrency ?? (/[a-z]/.test(text.replace(/\d+k\b|\d+w\b/g, '')) ? 'USD' : 'CNY');
}

/** The bound the longest bound word in the text gives ("no more than" is a ceiling, not "more than"'s floor). */
function boundOf(text: string): Bound | null {
  for (const [cue, bound] of BOUND_CUES) {
    if (findCue(text, cue) >= 0) return bound;
  }
  return null;
}

const toMinor = (amount: number, currency: Currency) => Math.round(amount * 10 ** MINOR_DIGITS[currency]);

export function parseBudget(text: string, options?: NormaliseOptions): Budget | null {
  const t = digitsForWords(foldForMatch(text).trim())
    .replace(/(\d),(?=\d{3}(?!\d))/g, '$1')
    .replace(/(\d)([kw])([a-z]+)/g, (all, digit: string, k: string, rest: string) =>
      // "1krmb" is 1k rmb, "80kuai" 80 kuai: a multiplier only where a currency word does not start at it.
      !startsWithCurrency(k + rest) && startsWithCurrency(rest) ? `${digit}${k} ${rest}` : all,
    );
  if (!t) return null;
  const currency = currencyOf(t, options);
  const free = FREE_PHRASES.some((p) => findCue(t, foldForMatch(p)) >= 0);
  const range = (lo: number, hi: number): Budget => ({ currency, minMinor: toMinor(Math.min(lo, hi), currency), maxMinor: toMinor(Math.max(lo, hi), currency) });

  const pair = PAIR.exec(t);
  if (pair && CHINESE_DIGITS[pair[2]] > CHINESE_DIGITS[pair[1]]) {
    const unit = CHINESE_UNITS[pair[3]];
    return range(CHINESE_DIGITS[pair[1]] * unit, CHINESE_DIGITS[pair[2]] * unit);
  }
  const some = SOME.exec(t);
  if (some) return some[1] ? range(2 * CHINESE_UNITS[some[1]], 9 * CHINESE_UNITS[some[1]]) : range(11, 19);

  const found: { value: number; raw: string; index: number; length: number }[] = [];
  for (const m of t.matchAll(NUMBER_TOKEN)) {
    const value = parseNumber(m[0]);
    if (value !== null) found.push({ value, raw: m[0].replace(/\s/g, ''), index: m.index ?? 0, length: m[0].length });
  }
  if (found.length === 0) return free ? { currency, maxMinor: 0 } : null;

  if (found.length >= 2) {
    const [a, b] = found;
    const between = t.slice(a.index + a.length, b.index);
    const isRange = /^\s*(?:-|~|–|—|到|至|to|and|或|or)\s*[$¥€£]?\s*$/.test(between.replace(/us\$|hk\$/g, '$')) || /between/.test(t);
    if (isRange) {
      let lo = a.value;
      const multiplier = MULTIPLIER_END.exec(b.raw);
      if (multiplier && !MULTIPLIER_END.test(a.raw)) {
        const m = parseNumber(`1${multiplier[0]}`) ?? 1;
        if (lo * m <= b.value) lo *= m;
      }
      return range(lo, b.value);
    }
  }
  const amount = found[0].value;
  switch (boundOf(t)) {
    case 'min':
      return { currency, minMinor: toMinor(amount, currency) };
    case 'approx':
      return { currency, minMinor: toMinor(amount * 0.8, currency), maxMinor: toMinor(amount * 1.2, currency) };
    default:
      return { currency, maxMinor: toMinor(amount, currency) };
  }
}

// ---------------------------------------------------------------------------
// LEVEL, FORMAT

const LEVEL_CUES = cueList(LEVEL_PHRASES, {
  [CourseLevel.BEGINNER]: '入门 新手 小白 初学 初级 零基础 没基础 从零 菜鸟 启蒙 基础 beginner basic intro entry newbie noob novice starter scratch dummies',
  [CourseLevel.INTERMEDIATE]: '有基础 有一定基础 有点基础 有些基础 进阶 中级 中阶 提高 提升 intermediate mid improver next_level some_experience',
  [CourseLevel.ADVANCED]: '高级 高阶 精通 大神 专业 资深 高手 深入 硬核 advanced expert pro professional master in-depth deep_dive hardcore',
});

const FORMAT_CUES = cueList(FORMAT_PHRASES, {
  [CourseFormat.VIDEO]: '视频 录播 网课 看的 video recorded recording on-demand on_demand youtube watch',
  [CourseFormat.AUDIO]: '音频 播客 听书 有声 电台 能听 听的 audio podcast listen audiobook',
  [CourseFormat.ARTICLE]: '图文 文章 电子书 文字 讲义 pdf 专栏 笔记 article text ebook e-book written reading newsletter blog notes',
  [CourseFormat.LIVE]: '直播 一对一 1对1 线下 面授 小班 陪练 连麦 live webinar zoom one-on-one 1:1 1-on-1 in-person in_person workshop small_group face_to_face face-to-face',
  [CourseFormat.BUNDLE]: '套餐 合集 全套 系列 打包 套课 礼包 全家桶 年卡 会员 bundle package series collection all-in-one complete_set membership pack pass',
});

export const normaliseLevel = (text: string): CourseLevel | null => earliestCue(foldForMatch(text), LEVEL_CUES);
export const normaliseFormat = (text: string): CourseFormat | null => earliestCue(foldForMatch(text), FORMAT_CUES);

// ---------------------------------------------------------------------------
// TIME

const cues = (s: string) => s.split(' ').map((c) => c.replace(/_/g, ' '));
const TIME_CUES = {
  weekend: cues('周末 周六 周日 周天 星期六 星期天 星期日 礼拜六 礼拜天 礼拜日 双休 休息日 weekend weekends saturday saturdays sunday sundays friday_night friday_nights'),
  weekday: cues('工作日 周一 周二 周三 周四 周五 星期一 星期二 星期三 星期四 星期五 礼拜一 礼拜二 礼拜三 礼拜四 礼拜五 上班日 周中 平日 平时 下班 上班 weekday weekdays weeknight weeknights monday mondays tuesday tuesdays wednesday wednesdays thursday thursdays friday fridays mon-fri workdays work_hours office_hours after_work before_work during_the_week'),
  evening: cues('晚上 晚间 夜里 夜晚 傍晚 晚饭后 睡前 深夜 半夜 凌晨 每晚 下班后 下班以后 下班之后 晚 夜 evening evenings night nights tonight after_dinner before_bed bedtime weeknight weeknights after_work'),
  morning: cues('早上 早晨 上午 清晨 一早 早起 一大早 上班前 早 晨 morning mornings dawn breakfast before_work'),
  lunch: cues('中午 午休 午饭 午间 午餐 lunch lunchtime noon midday'),
  daytime: cues('下午 午后 白天 日间 上班时间 afternoon afternoons daytime during_the_day work_hours office_hours'),
  daily: cues('每天 每日 天天 一天 daily every_day everyday each_day a_day per_day'),
  flexible: cues('随时 有空 碎片 灵活 不固定 空闲 看心情 任何时间 不限时间 anytime any_time whenever flexible self-paced own_pace own_schedule spare_time free_time on_the_go'),
};

type DayPart = 'evening' | 'morning' | 'lunch' | 'daytime';

const partOfHour = (h: number): DayPart => (h >= 5 && h <= 10 ? 'morning' : h >= 11 && h <= 13 ? 'lunch' : h >= 14 && h <= 17 ? 'daytime' : 'evening');

/** The part of the day an hour in the text names, or null. */
function hourPart(t: string, hasPart: boolean): DayPart | null {
  const en = /(\d{1,2})(?::\d{2})?\s*(am|pm|a\.m\.|p\.m\.)/.exec(t);
  if (en) {
    const h = Number(en[1]) % 12;
    return partOfHour(en[2].startsWith('p') ? h + 12 : h);
  }
  // 晚上8点, 下午3:30: the part of the day says which half; the hour adds nothing.
  if (hasPart) return null;
  const clock = /(\d{1,2}):\d{2}/.exec(t);
  if (clock) return partOfHour(Number(clock[1]));
  const zh = new RegExp(`(\\d{1,2}|[${DIGIT_CHARS}十]{1,3})\\s*(?:点|時|时)(半|钟|\\d{1,2}分?)?\\s*(以后|之后|后)?`).exec(t);
  if (!zh) return null;
  const h = parseNumber(zh[1]);
  if (h === null || h > 24) return null;
  if (h >= 12) return partOfHour(h);
  if (h <= 5) return 'daytime';
  if (zh[3]) return 'evening';
  return partOfHour(h);
}

export function normaliseTime(text: string): TimeSlot | null {
  const t = foldForMatch(text).trim();
  if (!t) return null;
  const has = (list: readonly string[]) => list.some((c) => findCue(t, c) >= 0);
  // 下午 holds 午 and 上午 holds 早's neighbour; cue lists avoid a bare 午, so 下午 is only daytime.
  let part: DayPart | null = has(TIME_CUES.evening) ? 'evening' : has(TIME_CUES.lunch) ? 'lunch' : has(TIME_CUES.morning) ? 'morning' : has(TIME_CUES.daytime) ? 'daytime' : null;
  part = hourPart(t, part !== null) ?? part;
  const weekend = has(TIME_CUES.weekend);
  const weekday = !weekend && has(TIME_CUES.weekday);
  if (weekend) return part === 'evening' ? 'WEEKEND_EVENING' : 'WEEKEND';
  if (weekday) {
    if (part === 'evening') return 'WEEKDAY_EVENING';
    if (part === 'morning') return 'WEEKDAY_MORNING';
    if (part === 'lunch') return 'LUNCH';
    return 'WEEKDAY_DAYTIME';
  }
  if (part === 'lunch') return 'LUNCH';
  if (part === 'evening') return 'EVENING';
  if (part === 'morning') return 'MORNING';
  if (part === 'daytime') return 'WEEKDAY_DAYTIME';
  if (has(TIME_CUES.daily)) return 'DAILY';
  if (has(TIME_CUES.flexible)) return 'FLEXIBLE';
  return null;
}

// ---------------------------------------------------------------------------
// TOPIC, PERSON, ORG, LOC

const canonical = new Map<string, Map<string, string>>();

const cleanName = (text: string) => foldWidth(text).replace(/\s+/g, ' ').replace(/^[\s《「“"']+|[\s》」”"']+$/g, '');

/** The lexicon's canonical name for a name of `type` ("py" → "Python", "茶艺" → "tea ceremony"), or null where the lexicon lacks it. */
export function lexiconName(type: 'TOPIC' | 'PERSON' | 'ORG' | 'LOC', text: string): string | null {
  let names = canonical.get(type);
  if (!names) {
    names = new Map(lexiconEntries(type).map((e) => [foldForMatch(e.text), e.value]));
    canonical.set(type, names);
  }
  return names.get(foldForMatch(cleanName(text))) ?? null;
}

function canonicalName(type: 'TOPIC' | 'PERSON' | 'ORG' | 'LOC', text: string): string | null {
  const cleaned = cleanName(text);
  if (!cleaned) return null;
  return lexiconName(type, cleaned) ?? cleaned;
}

// ---------------------------------------------------------------------------

export function normalise(type: 'BUDGET', text: string, options?: NormaliseOptions): Budget | null;
export function normalise(type: 'LEVEL', text: string): CourseLevel | null;
export function normalise(type: 'FORMAT', text: string): CourseFormat | null;
export function normalise(type: 'TIME', text: string): TimeSlot | null;
export function normalise(type: 'TOPIC' | 'PERSON' | 'ORG' | 'LOC', text: string): string | null;
export function normalise(type: DemandType, text: string, options?: NormaliseOptions): NormalisedValue | null;
/**
 * The value of an entity of `type` with text `text`, or null where the
 * text says nothing of that type. TOPIC, PERSON, ORG and LOC give the
 * lexicon's canonical name ("py" → "Python", "北大" → "Peking
 * University"), or the cleaned text for a name the lexicon lacks.
 */
export function normalise(type: DemandType, text: string, options?: NormaliseOptions): NormalisedValue | null {
  switch (type) {
    case 'BUDGET': return parseBudget(text, options);
    case 'LEVEL': return normaliseLevel(text);
    case 'FORMAT': return normaliseFormat(text);
    case 'TIME': return normaliseTime(text);
    default: return canonicalName(type, text);
  }
}
