/**
 * The weakly-labelled training corpus of demand extraction: sentences of
 * learner feedback in Chinese, English and code-switched text, generated
 * from templates and slot-filled from the lexicon (and a brand's own
 * catalog), each entity labelled exactly where it was put.
 *
 * What a sentence can be:
 * - a demand (requests, complaints, questions, lists, run-ons) in Chinese,
 *   in English, or in one of the code-switched patterns learners write
 *   ("想学Python，有没有beginner的video课"), its slots filled in its own
 *   language or, now and then, the other;
 * - a remark about people, places and organisations in Chinese ("上周周成汉
 *   在青龙镇讲了一场分享会"), its names drawn from jieba's dictionary as well
 *   as the lexicon and labelled where jieba's tagger, run over the
 *   sentence, tags them as nr/ns/nt; a name it does not confirm is drawn
 *   again, so the tagger sees people and places outside every list;
 * - feedback with no entity at all.
 *
 * Labelling conventions (the baseline and the normaliser follow them):
 * - BUDGET covers the amount, its currency and the words bounding it
 *   ("200元以内", "under $50", "不超过三百块", "100-200块"), not "预算"/"budget";
 * - PERSON is the name without a title: "王老师" labels 王, "Coach Li" Li;
 * - a course title from a brand's catalog is a TOPIC, inside 《》 or quotes;
 * - TIME is the whole phrase ("周末晚上", "weekday evenings", "after 8pm").
 *
 * Noise, at the `noise` scale (0 turns it off): English typos (swapped,
 * dropped, doubled letters), random casing, missing spaces, repeated or
 * missing end punctuation, full-width and half-width punctuation swapped,
 * full-width letters and digits, filler and slang at either end, emoji
 * (with astral-plane and ZWJ sequences, several UTF-16 code units each),
 * and spaces or none between Chinese and Latin text. An entity keeps its
 * label through all of it: offsets are counted after the noise.
 *
 * Deterministic for a seed: all draws come from one `Random`, and jieba's
 * tagging is a pure function of the text.
 */

import { Random } from '../train/random';
import { dictionaryNames, plainWords, plausibleName, tagWords, typeOfTag } from './jieba';
import {
  BUDGET_BOUNDS,
  CHINESE_GIVEN_NAME_CHARS,
  CHINESE_GIVEN_NAMES,
  COMMON_SURNAMES,
  CURRENCY_MARKS,
  FREE_PHRASES,
  MINOR_DIGITS,
  WESTERN_FIRST_NAMES,
  WESTERN_LAST_NAMES,
  lexiconEntries,
  scriptOf,
  type Currency,
  type LexiconEntry,
  type Script,
} from './lexicon';
import type { Budget } from './normalise';
import { DEMAND_TYPES, type AnnotatedText, type DemandType, type Span } from './types';

/** A brand's own names: its catalog's topics and course titles, its teachers, partners and venues. */
export interface Gazetteer {
  topics?: readonly string[];
  titles?: readonly string[];
  people?: readonly string[];
  organisations?: readonly string[];
  places?: readonly string[];
}

/** The gazetteer of a catalog: its courses' topics (deduplicated) and titles. */
export function gazetteerFromCatalog(courses: readonly { title: string; topics: readonly string[] }[]): Gazetteer {
  return {
    topics: [...new Set(courses.flatMap((c) => c.topics.map((t) => t.trim()).filter(Boolean)))],
    titles: [...new Set(courses.map((c) => c.title.trim()).filter(Boolean))],
  };
}

export interface CorpusOptions {
  sentences: number;
  seed: number;
  /** A brand's names, put in a share (`gazetteerRate`) of the slots they fit. */
  gazetteer?: Gazetteer;
  /** Share of TOPIC (PERSON, ORG, LOC) slots filled from the gazetteer where it has entries; default 0.3. */
  gazetteerRate?: number;
  /** Scale of every kind of noise; 0 for clean text; default 1. */
  noise?: number;
}

export type Language = 'zh' | 'en' | 'mixed';

/** A sentence's language by script: Chinese, English, or both (a Han character and a Latin word). */
export function languageOf(text: string): Language {
  const han = /\p{Script=Han}/u.test(text);
  const latin = /[A-Za-z\uff21-\uff3a\uff41-\uff5a]{2,}/.test(text);
  return han ? (latin ? 'mixed' : 'zh') : 'en';
}

export interface CorpusStats {
  sentences: number;
  characters: number;
  withoutEntities: number;
  entities: Record<DemandType, number>;
  languages: Record<Language, number>;
}

export function corpusStats(corpus: readonly AnnotatedText[]): CorpusStats {
  const entities = Object.fromEntries(DEMAND_TYPES.map((t) => [t, 0])) as Record<DemandType, number>;
  const languages: Record<Language, number> = { zh: 0, en: 0, mixed: 0 };
  let characters = 0;
  let withoutEntities = 0;
  for (const s of corpus) {
    characters += s.text.length;
    languages[languageOf(s.text)]++;
    if (s.entities.length === 0) withoutEntities++;
    for (const e of s.entities) entities[e.type]++;
  }
  return { sentences: corpus.length, characters, withoutEntities, entities, languages };
}

// ---------------------------------------------------------------------------
// Templates: text with {TYPE} or {TYPE:zh|en} slots ({BUDGET*} may be a bare
// number; {SURNAME} and {LASTNAME} are PERSON), {@macro}, (a|b) choices and
// [optional] parts.

type SlotName = DemandType | 'SURNAME' | 'LASTNAME';
type Node = string | { slot: SlotName; script?: Script; bare: boolean } | { macro: string } | { choice: Node[][] } | { optional: Node[] };

function parseTemplate(source: string): Node[] {
  let i = 0;
  const sequence = (stops: string): Node[] => {
    const out: Node[] = [];
    let text = '';
    const flush = () => {
      if (text) out.push(text);
      text = '';
    };
    while (i < source.length && !stops.includes(source[i])) {
      const c = source[i];
      if (c === '{') {
        flush();
        const close = source.indexOf('}', i);
        const inner = source.slice(i + 1, close);
        i = close + 1;
        if (inner.startsWith('@')) out.push({ macro: inner.slice(1) });
        else {
          const [name, script] = inner.replace('*', '').split(':');
          out.push({ slot: name as SlotName, script: script as Script | undefined, bare: inner.includes('*') });
        }
      } else if (c === '(') {
        flush();
        i++;
        const options: Node[][] = [sequence('|)')];
        while (source[i] === '|') {
          i++;
          options.push(sequence('|)'));
        }
        i++;
        out.push({ choice: options });
      } else if (c === '[') {
        flush();
        i++;
        out.push({ optional: sequence(']') });
        i++;
      } else {
        text += c;
        i++;
      }
    }
    flush();
    return out;
  };
  return sequence('');
}

const ZH_MACROS: Record<string, string> = {
  course: '(课|课程|教程|训练营|班)',
  want: '(想找|想要|求|求推荐|想学|想报|蹲一个|在找|需要)',
  ok: '(就行|就可以|都行|也可以|最好|优先)',
  thanks: '(谢谢|谢谢啦|感谢|先谢了|蟹蟹|拜托了|thx)',
  hi: '(老师好，|你好，|在吗？|请问|各位好，|hello，|小助手，)',
  good: '(靠谱|系统一点|实用|好一点|性价比高|口碑好)',
  age: '(5|6|7|8|9|10|十一|十二|三|四)',
};

const EN_MACROS: Record<string, string> = {
  course: '(course|class|program|tutorial|lessons|bootcamp|classes|courses)',
  want: "(looking for|need|want|searching for|i'd love|i need|gimme|hoping to find|any recs for)",
  ok: '(is fine|works|is ok|would be great|preferred|pls)',
  thanks: '(pls|please|plz|thanks|thx|ty|asap|thank u)',
  hi: '(hi,|hey,|hello,|hey guys,|hi there,|yo,|ok so)',
  good: '(good|solid|decent|proper|legit|structured)',
  age: '(5|6|7|8|9|10|12|13)',
};

const ZH_DEMANDS = [
  '{@want}{TIME}能听的{TOPIC}(导读|{@course})，{FORMAT}{@ok}，{BUDGET}',
  '有没有{LEVEL}的{TOPIC}{@course}？[最好是{FORMAT}]',
  '{@want}{LEVEL}{TOPIC}[的]{@course}，{BUDGET}',
  '我是{LEVEL}，想学{TOPIC}，只有{TIME}有时间',
  '{TOPIC}有{FORMAT}吗[？]',
  '{TIME}想上{TOPIC}{FORMAT}，预算{BUDGET*}',
  '求推荐{TOPIC}和{TOPIC}的{@course}[，{@thanks}]',
  '想学：{TOPIC}、{TOPIC}、{TOPIC}',
  '1. {TOPIC} 2. {TOPIC} 3. {LEVEL}[的]{@ok}',
  '{TOPIC}的课太贵了，{BUDGET}的有吗',
  '上次买的{TOPIC}{@course}讲得太浅了，想要{LEVEL}一点的',
  '{FORMAT}的课根本没时间看，有没有{FORMAT}的',
  '孩子{@age}岁，想报{TOPIC}，{TIME}上课',
  '{SURNAME}老师的{TOPIC}课还有吗',
  '想跟{PERSON}学{TOPIC}',
  '{LOC}有没有{FORMAT}的{TOPIC}课',
  '在{LOC}，{TIME}想找个{TOPIC}{@course}',
  '{ORG}出的{TOPIC}课怎么样',
  '听说{ORG}和你们合作了{TOPIC}课程？',
  '{TOPIC}{LEVEL}{@course}有推荐吗，{FORMAT}[或者{FORMAT}]都行',
  '预算{BUDGET*}，想学{TOPIC}',
  '{BUDGET}能买到什么{TOPIC}课',
  '你们的{TOPIC}课能不能出个{FORMAT}，方便{TIME}听',
  '太难了，{LEVEL}根本听不懂，有没有更{LEVEL}的',
  '想给孩子报个{TOPIC}班，{TIME}，{LOC}的',
  '{TOPIC}和{TOPIC}哪个更适合{LEVEL}',
  '作为{LEVEL}，{TOPIC}应该从哪里开始学',
  '能不能开个{TIME}的{TOPIC}{FORMAT}',
  '{TOPIC}{@course}，{LEVEL}，{FORMAT}，{TIME}，{BUDGET}',
  '我要{TOPIC}！！{LEVEL}！{BUDGET}！',
  '{TIME}没空，只能{TIME}学{TOPIC}',
  '最近在备考{TOPIC}，求{FORMAT}资料',
  '想学{TOPIC}，有没有{PERSON}那种风格的老师',
  '{ORG}的{PERSON}讲的{TOPIC}很好，你们有类似的吗',
  '去年在{LOC}上过{TOPIC}课，现在搬到{LOC}了',
  '{TOPIC}课程退款怎么弄？换成{TOPIC}可以吗',
  '价格{BUDGET*}还行，但是{FORMAT}的体验很差',
  '求一个{TIME}{FORMAT}的{TOPIC}{@course}[，{LEVEL}友好]',
  '{LEVEL}想系统学{TOPIC}，{BUDGET}，{FORMAT}',
  '有{TOPIC}相关的{FORMAT}吗，{TIME}听',
  '{TOPIC} {TOPIC} {TOPIC}想学的太多了哈哈',
  '老婆想学{TOPIC}我想学{TOPIC}有没有{FORMAT}的可以一起',
  '{SURNAME}老师{TIME}的{TOPIC}{FORMAT}还开吗',
  '{SURNAME}教练带的{TOPIC}班[还]有名额吗',
  '为什么{TOPIC}只有{FORMAT}，没有{FORMAT}',
  '{TOPIC}学完了，下一步学{TOPIC}还是{TOPIC}？',
  '{LOC}{LOC}附近有{TOPIC}{FORMAT}课吗',
  '我们公司在{LOC}，想给员工买{TOPIC}培训，一个人{BUDGET}',
  '{ORG}的学生，想找{TOPIC}辅导，{TIME}',
  '有没有适合{LEVEL}的{TOPIC}，{TIME}练的那种',
  '{TOPIC}的{FORMAT}太长了，希望有{FORMAT}',
  '想要{TOPIC}{@course}，要求：{LEVEL}、{FORMAT}、{BUDGET}',
  'emmm想问下{TOPIC}有{LEVEL}班吗',
  '{TIME}有{TOPIC}{FORMAT}吗？{TIME}也行',
  '报了{ORG}的{TOPIC}，感觉一般，你们的怎么样',
  '看了{PERSON}的比赛想学{TOPIC}',
  '{PERSON}同款{TOPIC}训练有吗',
  '{TOPIC}{LEVEL}求带',
  '{TOPIC}，{BUDGET}，{TIME}，急！',
  '帮我找找{TOPIC}方面的{@course}，{LEVEL}',
  '{TOPIC}课多少钱？超过{BUDGET}就算了',
  '想学{TOPIC}但是{TIME}要加班，{FORMAT}能回放吗',
  '有没有{LOC}本地的{TOPIC}老师，{FORMAT}',
  '{TOPIC}课{TIME}开，{LEVEL}友好，{FORMAT}，价格{BUDGET*}，这样的有吗',
  '之前跟{PERSON}学过一点{TOPIC}，现在算{LEVEL}吧',
  '{TOPIC}考试快到了，{TIME}冲刺，有{FORMAT}吗',
  '{@hi}{TOPIC}的{@course}适合{LEVEL}吗',
  '{TOPIC}有没有{@good}的{@course}，{BUDGET}也能接受',
  '我想在{TIME}学点{TOPIC}，{FORMAT}形式的',
  '一直想学{TOPIC}又怕学不会，我这种{LEVEL}能行吗',
  '给我爸妈找个{TOPIC}课，{FORMAT}，{TIME}',
  '{TOPIC}+{TOPIC}组合课有没有，{BUDGET}',
  '你们的{TOPIC}讲得太快了，{LEVEL}跟不上，能出个{FORMAT}吗',
  '{TIME}或者{TIME}都可以，主要想学{TOPIC}',
  '有{ORG}认证的{TOPIC}课吗',
  '想考{TOPIC}，有{FORMAT}[或者{FORMAT}]吗，{BUDGET}的那种',
];

const EN_DEMANDS = [
  'need a {LEVEL} {TOPIC} {@course}, {FORMAT}, {TIME}',
  'looking for a {TOPIC} {@course} for {LEVEL}',
  'any {LEVEL} {TOPIC} {@course} {BUDGET}?',
  'is there a {FORMAT} version of the {TOPIC} {@course}?',
  "i'm a {LEVEL}, want to learn {TOPIC} but i only have time {TIME}",
  'can u recommend something on {TOPIC}? {FORMAT} {@thanks}',
  '{TOPIC} or {TOPIC}, which one should a {LEVEL} start with',
  'want {TOPIC} lessons {TIME}, budget {BUDGET}',
  'wish you had more {FORMAT} content on {TOPIC}',
  'the {TOPIC} {@course} was way too easy, need something {LEVEL}',
  '{TOPIC} for {LEVEL}, {TIME}, {BUDGET}',
  'do you have {TOPIC} classes in {LOC}?',
  'my kid is {@age} and wants to do {TOPIC}, {TIME} works best',
  "anything like {PERSON}'s {TOPIC} program?",
  'i want to train like {PERSON}, any {TOPIC} plan?',
  'saw {PERSON} at {ORG}, now i wanna learn {TOPIC} lol',
  'is the {ORG} {TOPIC} {@course} still available',
  'moving to {LOC} next month, need {TOPIC} {FORMAT} classes',
  '{TOPIC} {TOPIC} {TOPIC} - so many things to learn haha',
  '1) {TOPIC} 2) {TOPIC} 3) {TOPIC}',
  'need: {TOPIC}, {LEVEL}, {FORMAT}, {BUDGET}',
  '{@hi} got anything for {TOPIC}? {LEVEL} here',
  '{TIME} only, {FORMAT} {@ok}, {BUDGET}',
  'too expensive. anything {BUDGET} for {TOPIC}?',
  'your {TOPIC} {FORMAT} lessons are great but i need {FORMAT}',
  'could you add a {TIME} {FORMAT} session for {TOPIC}',
  'recommend me a {TOPIC} {@course} taught by {PERSON}',
  'i studied {TOPIC} at {ORG}, looking for {LEVEL} material now',
  'any {TOPIC} coach in {LOC}? {TIME}',
  "Coach {LASTNAME}'s {TOPIC} class was awesome, more {@thanks}",
  'is Mr. {LASTNAME} teaching {TOPIC} again {TIME}?',
  '{LEVEL} {TOPIC}?? {FORMAT}?? {BUDGET}??',
  "so i've been trying to learn {TOPIC} for months and nothing works, need a {LEVEL} {FORMAT} {@course} i can do {TIME}",
  "pls make a {TOPIC} {@course}, i'd pay {BUDGET}",
  "what's the best way to get into {TOPIC} as a {LEVEL}",
  "can't do {TIME}, only {TIME}. any {TOPIC} options?",
  '{TOPIC} with {PERSON} - is it {FORMAT} or {FORMAT}?',
  'i run a team at {ORG} in {LOC}, we need {TOPIC} training {BUDGET} per person',
  'looking for a {TOPIC} + {TOPIC} combo, {BUDGET} total',
  'got a {TOPIC} exam soon, need {FORMAT} prep {TIME}',
  'anything {LEVEL}-friendly on {TOPIC}?',
  'all the {TOPIC} courses are {FORMAT}, where are the {FORMAT} ones',
  '{TIME} {TOPIC}, {LEVEL}, {@thanks}',
  'teach me {TOPIC} {TIME} {@thanks}',
  "i'd love a {TOPIC} {@course} from {ORG}",
  '{@want} a {@good} {TOPIC} {@course}',
  '{@want} {TOPIC} + {TOPIC}, {LEVEL} stuff, {BUDGET}',
  'honestly the {TOPIC} {@course} is too hard for a {LEVEL} like me',
  'do u have {TOPIC} in {FORMAT}? i commute {TIME}',
  "i'm based in {LOC}, any {TOPIC} {FORMAT} {TIME}?",
  'hey {ORG} fans, anyone know a {TOPIC} {@course} like the one {PERSON} did?',
  'where can i find {TOPIC} for {LEVEL} {BUDGET}',
  'my {TOPIC} teacher {PERSON} recommended you guys',
  'so expensive!!! is there any {TOPIC} {@course} {BUDGET}',
  'why is there no {FORMAT} for {TOPIC}? {FORMAT} is too long',
  '{TOPIC} {FORMAT} {TIME} {BUDGET} {LEVEL}',
  'just finished {TOPIC}, what next? maybe {TOPIC}?',
];

const MIXED_DEMANDS = [
  '想学{TOPIC:en}，有没有{LEVEL:en}的{FORMAT:en}课',
  '求一个{TOPIC:en} course，{LEVEL:zh}，{BUDGET:zh}',
  '有没有{TIME:zh}的{TOPIC:en} {FORMAT:en} class',
  '{TOPIC:en}太难了，有{LEVEL:en}版吗',
  'need {TOPIC:zh}课, {FORMAT:en}, {TIME:en}',
  '我是{LEVEL:en}，{TOPIC:en}怎么入手',
  'looking for {TOPIC:zh}的课 {BUDGET:zh}',
  '{TOPIC:en} {LEVEL:zh}课程 有没有 {FORMAT:en} 的',
  '这个{TOPIC:en} course 的 {FORMAT:en} 有点长 能不能出{FORMAT:zh}',
  '想找{PERSON:en}那样的{TOPIC:zh} coach',
  '{TIME:en}有空，想上{TOPIC:en}',
  'budget {BUDGET:en}，想学{TOPIC:zh}',
  '在{LOC:en}，want {TOPIC:zh} classes {TIME:zh}',
  '{ORG:en}的{TOPIC:en} course值得买吗',
  '老师我{LEVEL:en}，{TOPIC:en} 能跟上吗',
  'plz 推荐 {TOPIC:en} 课 {BUDGET:en}',
  '有{TOPIC:en}的{FORMAT:zh}吗 thx',
  '{TOPIC:zh} for {LEVEL:en}? {FORMAT:zh}就好',
  '想要{TOPIC:en} + {TOPIC:en}，{TIME:zh}，{FORMAT:en}',
  '我在{LOC:zh}，any {TOPIC:en} {FORMAT:en} classes {TIME:en}?',
  '{TOPIC:en}的{LEVEL:zh}课有没有，最好{FORMAT:en}，{BUDGET:zh}',
  'hi 老师，{TOPIC:en} 有 {LEVEL:en} 的吗',
  '求{TOPIC:en} {FORMAT:en} resource，{TIME:zh}看',
  '{TIME:zh}上班，only {TIME:en} ok，{TOPIC:zh}',
  '我{LEVEL:zh}，想学{TOPIC:en}和{TOPIC:en}，有{FORMAT:en}吗',
  '{PERSON:zh}的{TOPIC:en} {FORMAT:en}还有吗',
  '{ORG:zh} x {ORG:en}合作的{TOPIC:zh}课在哪',
  '{TOPIC:en} {FORMAT:zh} {BUDGET:en} 有吗',
  'any recs for {TOPIC:zh}? {LEVEL:zh}，{TIME:zh}',
  '刚到{LOC:en}，想找{TOPIC:en} group，{TIME:en}',
  '{TOPIC:en}课 price {BUDGET:en} 太贵了吧',
  '{@hi}想问{TOPIC:en}有没有{FORMAT:en}，{TIME:en}',
];

/** Chinese remarks about people, places and organisations, for jieba to confirm. */
const ZH_NAMES = [
  '上周{PERSON}在{LOC}讲了一场分享会',
  '我是{LOC}人，在{ORG}上班',
  '朋友{PERSON}推荐我来的',
  '{PERSON}和{PERSON}都说{ORG}不错',
  '去年去{LOC}旅游认识了{PERSON}',
  '我老家在{LOC}，现在在{LOC}工作',
  '{ORG}的{PERSON}老师人很好',
  '听说{PERSON}要去{ORG}了',
  '我女儿在{ORG}读书',
  '{LOC}那边的活动还办吗',
  '下个月要去{LOC}出差',
  '{PERSON}是我表哥，他也报了',
  '同事{PERSON}也报了，说挺好的',
  '之前在{ORG}实习过',
  '{LOC}的朋友们一起来啊',
  '{PERSON}说{LOC}的场地很大',
  '刚从{ORG}毕业，在{LOC}找工作',
  '住在{LOC}附近，交通方便',
  '{SURNAME}老师，我是{LOC}的学员',
  '感谢{PERSON}和{ORG}的支持',
  '{PERSON}，{LOC}，{ORG}',
  '我们{ORG}想和你们合作',
];

const ZH_EMPTY = [
  '谢谢老师，讲得很清楚',
  'app老是闪退，登录不了',
  '怎么申请退款[啊][？]',
  '客服电话是多少',
  '发票怎么开',
  '课程质量很好，支持一下',
  '已经买了，为什么看不了',
  '能不能便宜点',
  '老师讲得太快了，跟不上',
  '字幕有错别字',
  '下次还会再来',
  '活动什么时候开始',
  '[这个]课[程]更新太慢了',
  '优惠券用不了',
  '群里的链接打不开',
  '有没有学习群',
  '作业在哪里交',
  '证书怎么领取',
  '为什么扣了两次钱',
  '好评！',
  '一般般吧，没什么新东西',
  '推荐给朋友了',
  '声音太小听不清',
  '哈哈哈哈哈',
  '老师辛苦了',
  '内容不错，就是有点贵',
  '什么时候出新课啊',
];

const EN_EMPTY = [
  'thanks, great course',
  'app keeps crashing',
  'how do i get a refund',
  "can't log in",
  "where's my certificate",
  'the sound is out of sync',
  'love it!!',
  'too expensive tbh',
  'is there a discount code',
  'the link in the email is broken',
  'meh, nothing new',
  'instructor talks too fast',
  'subtitles have typos',
  'when does the next cohort start',
  'how do i cancel my subscription',
  'charged twice??',
  'customer service never replied',
  'ok',
  'great job guys',
  'will recommend to my friends',
  'the quiz answers are wrong in chapter 3',
];

interface Compiled {
  zhDemands: Node[][];
  enDemands: Node[][];
  mixedDemands: Node[][];
  zhNames: Node[][];
  zhEmpty: Node[][];
  enEmpty: Node[][];
  macros: Record<Script, Record<string, Node[]>>;
}

let compiled: Compiled | null = null;
function templates(): Compiled {
  if (!compiled) {
    const all = (list: readonly string[]) => list.map(parseTemplate);
    const macros = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, parseTemplate(v)]));
    compiled = {
      zhDemands: all(ZH_DEMANDS),
      enDemands: all(EN_DEMANDS),
      mixedDemands: all(MIXED_DEMANDS),
      zhNames: all(ZH_NAMES),
      zhEmpty: all(ZH_EMPTY),
      enEmpty: all(EN_EMPTY),
      macros: { zh: macros(ZH_MACROS), en: macros(EN_MACROS) },
    };
  }
  return compiled;
}

// ---------------------------------------------------------------------------
// Slot values.

const pick = <T>(random: Random, list: readonly T[]): T => list[random.int(list.length)];
const chance = (random: Random, p: number) => random.next() < p;

/** Lexicon entries of a type, by script, grouped by the value or concept they name. */
const grouped = new Map<string, Record<Script, LexiconEntry[][]>>();
function groups(type: Exclude<DemandType, 'BUDGET'>): Record<Script, LexiconEntry[][]> {
  let g = grouped.get(type);
  if (!g) {
    const by: Record<Script, Map<string, LexiconEntry[]>> = { zh: new Map(), en: new Map() };
    for (const e of lexiconEntries(type)) {
      const m = by[e.script];
      m.set(e.value, [...(m.get(e.value) ?? []), e]);
    }
    g = { zh: [...by.zh.values()], en: [...by.en.values()] };
    grouped.set(type, g);
  }
  return g;
}

/** A listed phrase: a value or concept first, uniformly, then one of its names in the script. */
const listed = (random: Random, type: Exclude<DemandType, 'BUDGET'>, script: Script): string => pick(random, pick(random, groups(type)[script])).text;

const WEEKEND_EN = ['saturday', 'sunday', 'saturdays', 'sundays', 'weekends'];
const WEEKDAY_EN = ['weekdays', 'mondays', 'tuesdays', 'wednesdays', 'thursdays'];

/** A time with an hour: "晚上8点以后", "周六上午十点", "after 8pm", "weekdays at 7:30am". */
function clockTime(random: Random, script: Script): string {
  if (script === 'zh') {
    const [part, lo, hi] = pick(random, [['晚上', 7, 11], ['早上', 6, 9], ['上午', 8, 11], ['下午', 1, 5], ['中午', 12, 12], ['', 19, 22], ['', 7, 10]] as const);
    const h = lo + random.int(hi - lo + 1);
    const day = part && chance(random, 0.3) ? pick(random, ['周末', '周六', '工作日', '每天', '周三', '平时']) : '';
    const after = pick(random, ['', '', '以后', '之后', '左右', '前', '后']);
    if (chance(random, 0.2)) return `${day}${part}${h}:30${after}`;
    const hour = chance(random, 0.4) ? toChineseNumeral(h, random) : String(h);
    return `${day}${part}${hour}点${pick(random, ['', '', '半', '钟'])}${after}`;
  }
  const pm = chance(random, 0.6);
  const h = pm ? 5 + random.int(6) : 6 + random.int(5);
  const minutes = pick(random, ['', '', ':30', ':15']);
  const mark = pick(random, pm ? ['pm', ' pm', 'p.m.', 'PM'] : ['am', ' am', 'a.m.', 'AM']);
  const prep = pick(random, ['after ', 'before ', 'around ', 'at ', 'from ', '']);
  const day = chance(random, 0.3) ? `${pick(random, [...WEEKEND_EN, ...WEEKDAY_EN])} ` : '';
  return `${day}${prep}${h}${minutes}${mark}`;
}

// ---------------------------------------------------------------------------
// Numbers and budgets.

const ZH_DIGIT = '零一二三四五六七八九';

function belowTenThousand(n: number, colloquial: boolean, random: Random | null): string {
  const units = ['千', '百', '十', ''];
  const digits = [Math.floor(n / 1000), Math.floor(n / 100) % 10, Math.floor(n / 10) % 10, n % 10];
  const first = digits.findIndex((d) => d > 0);
  const last = 3 - [...digits].reverse().findIndex((d) => d > 0);
  let out = '';
  for (let k = first; k <= last; k++) {
    const d = digits[k];
    if (d === 0) {
      if (!out.endsWith('零')) out += '零';
      continue;
    }
    const two = d === 2 && (k === 0 || k === 1) && (!random || chance(random, 0.7)) ? '两' : ZH_DIGIT[d];
    // 十五 rather than 一十五 at the head; 三千五 rather than 三千五百 when colloquial.
    const digit = k === 2 && d === 1 && out === '' ? '' : two;
    const dropUnit = colloquial && k === last && k > first && k - 1 >= first && digits[k - 1] > 0 && k < 3;
    out += digit + (dropUnit ? '' : units[k]);
  }
  return out;
}

/**
 * An integer in Chinese numerals, as people write prices: 两百, 三千五 (or
 * 三千五百), 一百五, 一千零五十, 一万二, 十五. `random` picks between the
 * equivalent forms; without it the full form with 两 is written.
 */
export function toChineseNumeral(n: number, random: Random | null = null): string {
  if (!Number.isInteger(n) || n < 0 || n >= 1e8) throw new RangeError(`no Chinese numeral for ${n}`);
  if (n === 0) return '零';
  const colloquial = random ? chance(random, 0.5) : false;
  const high = Math.floor(n / 10_000);
  const low = n % 10_000;
  if (high === 0) return belowTenThousand(low, colloquial, random);
  const head = (high === 2 ? '两' : belowTenThousand(high, false, random)) + '万';
  if (low === 0) return head;
  if (colloquial && low % 1000 === 0) return head + ZH_DIGIT[low / 1000];
  return head + (low < 1000 ? '零' : '') + belowTenThousand(low, false, random);
}

const PRICES: Readonly<Record<Currency, readonly number[]>> = {
  CNY: [9.9, 19, 29, 30, 49, 50, 80, 99, 100, 150, 199, 200, 250, 299, 300, 400, 500, 600, 800, 999, 1000, 1200, 1500, 2000, 3000, 3500, 5000, 8000, 10000, 20000],
  USD: [5, 9.99, 10, 15, 19.99, 20, 25, 30, 40, 49, 50, 75, 99, 100, 150, 200, 250, 300, 500, 1000, 1500, 2000],
  EUR: [10, 20, 30, 50, 80, 100, 200, 500],
  GBP: [10, 15, 20, 30, 50, 100, 250],
  HKD: [100, 200, 300, 500, 800, 1000, 2000],
  JPY: [1000, 2000, 3000, 5000, 10000, 20000, 50000],
};

const minorOf = (amount: number, currency: Currency) => Math.round(amount * 10 ** MINOR_DIGITS[currency]);

type AmountStyle = 'arabic' | 'grouped' | 'chinese' | 'words' | 'k' | 'w';

const EN_SMALL = 'zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen'.split(' ');
const EN_TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** A whole number below a million in English words: "fifty", "twenty-five", "a hundred and fifty", "two thousand". */
export function toEnglishNumber(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n >= 1e6) throw new RangeError(`no English words for ${n}`);
  const below100 = (k: number) => (k < 20 ? EN_SMALL[k] : EN_TENS[Math.floor(k / 10)] + (k % 10 ? `-${EN_SMALL[k % 10]}` : ''));
  const below1000 = (k: number) => {
    const h = Math.floor(k / 100);
    const rest = k % 100;
    if (!h) return below100(rest);
    return `${h === 1 ? 'a' : EN_SMALL[h]} hundred${rest ? ` and ${below100(rest)}` : ''}`;
  };
  const th = Math.floor(n / 1000);
  const rest = n % 1000;
  if (!th) return below1000(n);
  return `${th === 1 ? 'a' : below1000(th)} thousand${rest ? ` ${below1000(rest)}` : ''}`;
}

/** Whether an amount can be written in a style: Chinese numerals for whole numbers, k for whole hundreds from 1000, 万/w for whole thousands from 10000. */
function fits(n: number, style: AmountStyle): boolean {
  const whole = Number.isInteger(n);
  switch (style) {
    case 'chinese': return whole;
    case 'words': return whole && n <= 5000;
    case 'k': return whole && n >= 1000 && n % 100 === 0;
    case 'w': return whole && n >= 10_000 && n % 1000 === 0;
    case 'grouped': return whole && n >= 1000;
    default: return true;
  }
}

function chooseStyle(random: Random, script: Script, amounts: readonly number[]): AmountStyle {
  const wanted: AmountStyle[] = script === 'zh' ? ['chinese', 'chinese', 'w', 'k', 'arabic', 'arabic', 'arabic'] : ['k', 'grouped', 'words', 'arabic', 'arabic', 'arabic'];
  const style = pick(random, wanted);
  return amounts.every((n) => fits(n, style)) ? style : 'arabic';
}

/** An amount in a style: "1299", "1,299", "一千二百九十九", "1.5k", "2万". */
function writeAmount(random: Random, n: number, style: AmountStyle): string {
  switch (style) {
    case 'chinese': return toChineseNumeral(n, random);
    case 'k': return `${n / 1000}${pick(random, ['k', 'k', 'K'])}`;
    case 'w': return `${n / 10_000}${pick(random, ['万', '万', 'w'])}`;
    case 'grouped': return n.toLocaleString('en-US');
    case 'words': return toEnglishNumber(n);
    default: return String(n);
  }
}

export interface SampledBudget {
  text: string;
  /** What the budget means, by the rules of `normalise('BUDGET', …)`. */
  value: Budget;
}

/**
 * A budget phrase and its value: an amount in a currency, bare (read as a
 * ceiling), bounded (以内, under, at least, 左右, around), a range or
 * free. `bare` allows an amount with neither currency nor bound word
 * ("预算200" puts "200" here).
 */
export function sampleBudget(random: Random, script: Script, bare = false): SampledBudget {
  if (chance(random, 0.04)) {
    const text = pick(random, FREE_PHRASES.filter((p) => scriptOf(p) === script));
    return { text, value: { currency: script === 'zh' ? 'CNY' : 'USD', maxMinor: 0 } };
  }
  const cr = random.next();
  const currency: Currency =
    script === 'zh' ? (cr < 0.86 ? 'CNY' : cr < 0.94 ? 'USD' : pick(random, ['EUR', 'GBP', 'HKD', 'JPY'] as const))
      : cr < 0.7 ? 'USD' : cr < 0.85 ? 'CNY' : pick(random, ['EUR', 'GBP', 'HKD', 'JPY'] as const);
  const prices = PRICES[currency];
  const bounds = BUDGET_BOUNDS[script];
  const marks = CURRENCY_MARKS[currency];
  // Mostly the sentence's own script ("200元", "200 dollars"), now and then the other ("200rmb").
  const sameScript = (list: readonly string[]) => {
    const own = list.filter((m) => scriptOf(m) === script);
    return own.length && (script === 'en' || chance(random, 0.85)) ? own : list;
  };
  let before = marks.before.length && chance(random, script === 'en' || currency !== 'CNY' ? 0.6 : 0.2) ? pick(random, marks.before) : '';
  let after = before ? '' : pick(random, sameScript(marks.after));
  const shape = random.next();
  const gapBefore = (word: string) => (script === 'en' && /^[a-z]/i.test(word) ? ' ' : chance(random, 0.15) ? ' ' : '');
  let gap = gapBefore(after);
  // The currency word after an amount, a space between letters ("2k rmb", "fifty bucks").
  const withCurrency = (amount: string) => (after ? (/[a-z]$/i.test(amount) && /^[a-z]/i.test(after) ? ' ' : gap) + after : '');
  const symbolGap = /^[A-Z]{3}$/.test(before) ? ' ' : '';

  if (shape < 0.14) {
    // A range: 100-200块, 一百到两百元, 两三百块, $100-200, between $100 and $200.
    let a = pick(random, prices);
    let b = pick(random, prices);
    while (b === a) b = pick(random, prices);
    if (a > b) [a, b] = [b, a];
    const value: Budget = { currency, minMinor: minorOf(a, currency), maxMinor: minorOf(b, currency) };
    if (script === 'zh' && currency === 'CNY' && chance(random, 0.2)) {
      const unit = pick(random, [[100, '百'], [1000, '千']] as const);
      const lo = 1 + random.int(8);
      const pair = `${lo === 2 ? '两' : ZH_DIGIT[lo]}${lo + 1 === 2 ? '两' : ZH_DIGIT[lo + 1]}${unit[1]}`;
      return { text: `${pair}${after || '块'}`, value: { currency, minMinor: minorOf(lo * unit[0], currency), maxMinor: minorOf((lo + 1) * unit[0], currency) } };
    }
    const drawn = chooseStyle(random, script, [a, b]);
    const style = drawn === 'words' ? 'arabic' : drawn;
    let first = writeAmount(random, a, style);
    const second = writeAmount(random, b, style);
    // "1-2k", "1-2万": the multiplier once, where the normaliser carries it over.
    if ((style === 'k' || style === 'w') && chance(random, 0.5)) first = first.replace(/[kK万w]$/, '');
    const sep = pick(random, bounds.range);
    const spaced = sep === 'to' || chance(random, 0.1) ? ` ${sep} ` : sep;
    const lead = before ? before + symbolGap : '';
    const tail = withCurrency(second);
    if (script === 'en' && chance(random, 0.25)) return { text: `between ${lead}${first} and ${lead}${second}${tail}`, value };
    // A symbol may stand again before the second amount ("$100-$200"), a code ("USD") not.
    const again = before && !symbolGap && chance(random, 0.5) ? before : '';
    return { text: `${lead}${first}${spaced}${again}${second}${tail}`, value };
  }

  const amount = pick(random, prices);
  const written = writeAmount(random, amount, chooseStyle(random, script, [amount]));
  // Words take a currency word after them ("fifty bucks"), not a symbol before.
  if (/[a-z]/.test(written) && before) {
    before = '';
    after = pick(random, sameScript(marks.after));
    gap = /^[a-z]/i.test(after) ? ' ' : gapBefore(after);
  }
  const kind = shape < 0.45 ? 'bare' : shape < 0.78 ? 'max' : shape < 0.88 ? 'min' : 'approx';
  if (kind !== 'bare' && !before && script === 'zh' && chance(random, 0.25)) after = '';
  if (bare && script === 'zh' && chance(random, 0.3)) {
    return { text: written, value: { currency: 'CNY', maxMinor: minorOf(amount, 'CNY') } };
  }
  const core = `${before}${before ? symbolGap : ''}${written}${withCurrency(written)}`;
  const wrap = (list: { b: readonly string[]; a: readonly string[] }) => {
    const useBefore = chance(random, 0.5);
    if (useBefore) return `${pick(random, list.b)}${script === 'en' ? ' ' : chance(random, 0.2) ? ' ' : ''}${core}`;
    const suffix = pick(random, list.a);
    return `${core}${script === 'en' && /^[a-z]/.test(suffix) ? ' ' : ''}${suffix}`;
  };
  const valueCurrency: Currency = before || after ? currency : script === 'zh' ? 'CNY' : 'USD';
  switch (kind) {
    case 'bare':
      return { text: core, value: { currency: valueCurrency, maxMinor: minorOf(amount, valueCurrency) } };
    case 'max':
      return { text: wrap({ b: bounds.maxBefore, a: bounds.maxAfter }), value: { currency: valueCurrency, maxMinor: minorOf(amount, valueCurrency) } };
    case 'min':
      return { text: wrap({ b: bounds.minBefore, a: bounds.minAfter }), value: { currency: valueCurrency, minMinor: minorOf(amount, valueCurrency) } };
    default:
      return {
        text: wrap({ b: bounds.approxBefore, a: bounds.approxAfter }),
        value: { currency: valueCurrency, minMinor: minorOf(amount * 0.8, valueCurrency), maxMinor: minorOf(amount * 1.2, valueCurrency) },
      };
  }
}

// ---------------------------------------------------------------------------
// Sentence building.

interface Piece {
  text: string;
  type: DemandType | null;
  /** A name drawn from jieba's dictionary: kept only where jieba tags it so in the sentence. */
  fromDictionary?: boolean;
}

interface Context {
  random: Random;
  /** The sentence's language; a slot without a script of its own switches to the other now and then. */
  script: Script;
  switchRate: Partial<Record<SlotName, number>>;
  gazetteer: Gazetteer | undefined;
  gazetteerRate: number;
  /** Share of PERSON, ORG and LOC slots drawn from jieba's dictionary. */
  dictionaryRate: number;
  pieces: Piece[];
}

const SWITCH_FROM_ZH: Partial<Record<SlotName, number>> = { TOPIC: 0.15, LEVEL: 0.04, FORMAT: 0.08, TIME: 0.02, BUDGET: 0.03, PERSON: 0.1, ORG: 0.2, LOC: 0.05, LASTNAME: 0, SURNAME: 0 };
const SWITCH_FROM_EN: Partial<Record<SlotName, number>> = { TOPIC: 0.03, LEVEL: 0.02, FORMAT: 0.02, TIME: 0.02, BUDGET: 0.02, PERSON: 0.03, ORG: 0.03, LOC: 0.03, LASTNAME: 0, SURNAME: 0 };

function chineseName(random: Random): string {
  const r = random.next();
  const surname = pick(random, COMMON_SURNAMES);
  if (r < 0.35) return surname + pick(random, CHINESE_GIVEN_NAMES);
  const given = pick(random, CHINESE_GIVEN_NAME_CHARS) + (chance(random, 0.7) ? pick(random, CHINESE_GIVEN_NAME_CHARS) : '');
  return surname + given;
}

function personValue(ctx: Context, script: Script): string {
  const { random } = ctx;
  const r = random.next();
  if (r < 0.3) return listed(random, 'PERSON', script);
  if (script === 'zh') return chineseName(random);
  const first = pick(random, WESTERN_FIRST_NAMES);
  return chance(random, 0.55) ? `${first} ${pick(random, WESTERN_LAST_NAMES)}` : first;
}

const fromBrand = (ctx: Context, list: readonly string[] | undefined, script: Script): string | null => {
  if (!list || list.length === 0 || !chance(ctx.random, ctx.gazetteerRate)) return null;
  const own = list.filter((e) => scriptOf(e) === script);
  return pick(ctx.random, own.length && chance(ctx.random, 0.8) ? own : list);
};

function fillSlot(ctx: Context, name: SlotName, fixed: Script | undefined, bare: boolean): void {
  const { random, pieces } = ctx;
  const rate = ctx.switchRate[name] ?? 0;
  const script: Script = fixed ?? (chance(random, rate) ? (ctx.script === 'zh' ? 'en' : 'zh') : ctx.script);
  const push = (text: string, type: DemandType | null, fromDictionary = false) => pieces.push({ text, type, fromDictionary });
  switch (name) {
    case 'TOPIC': {
      const g = ctx.gazetteer;
      const brandTitle = g?.titles?.length && chance(random, 0.35) ? fromBrand(ctx, g.titles, script) : null;
      if (brandTitle) {
        const [open, close] = scriptOf(brandTitle) === 'zh' || script === 'zh' ? pick(random, [['《', '》'], ['', ''], ['“', '”']]) : pick(random, [['"', '"'], ['', '']]);
        if (open) push(open, null);
        push(brandTitle, 'TOPIC');
        if (close) push(close, null);
        return;
      }
      push(fromBrand(ctx, g?.topics, script) ?? listed(random, 'TOPIC', script), 'TOPIC');
      return;
    }
    case 'LEVEL':
    case 'FORMAT':
      push(listed(random, name, script), name);
      return;
    case 'TIME':
      push(chance(random, 0.15) ? clockTime(random, script) : listed(random, 'TIME', script), 'TIME');
      return;
    case 'BUDGET':
      push(sampleBudget(random, script, bare).text, 'BUDGET');
      return;
    case 'SURNAME':
      push(pick(random, COMMON_SURNAMES), 'PERSON');
      return;
    case 'LASTNAME':
      push(pick(random, WESTERN_LAST_NAMES), 'PERSON');
      return;
    case 'PERSON':
    case 'ORG':
    case 'LOC': {
      if (script === 'zh' && chance(random, ctx.dictionaryRate)) {
        push(pick(random, dictionaryNames()[name]), name, true);
        return;
      }
      const brand = fromBrand(ctx, name === 'PERSON' ? ctx.gazetteer?.people : name === 'ORG' ? ctx.gazetteer?.organisations : ctx.gazetteer?.places, script);
      push(brand ?? (name === 'PERSON' ? personValue(ctx, script) : listed(random, name, script)), name);
      return;
    }
  }
}

function expand(ctx: Context, nodes: readonly Node[]): void {
  for (const node of nodes) {
    if (typeof node === 'string') ctx.pieces.push({ text: node, type: null });
    else if ('slot' in node) fillSlot(ctx, node.slot, node.script, node.bare);
    else if ('macro' in node) expand(ctx, templates().macros[ctx.script][node.macro]);
    else if ('choice' in node) expand(ctx, pick(ctx.random, node.choice));
    else if (chance(ctx.random, 0.5)) expand(ctx, node.optional);
  }
}

const sentenceText = (pieces: readonly Piece[]) => pieces.map((p) => p.text).join('');

/**
 * Holds a names sentence to jieba: every name drawn from its dictionary
 * must come back as one word tagged with its type; the names jieba finds
 * elsewhere in the sentence's own text, and that look like names, are
 * labelled too. False where a drawn name is not confirmed.
 */
function confirmWithJieba(pieces: Piece[]): boolean {
  const text = sentenceText(pieces);
  const words = tagWords(text);
  const byStart = new Map(words.map((w) => [w.start, w]));
  let at = 0;
  const out: Piece[] = [];
  for (const p of pieces) {
    const start = at;
    at += p.text.length;
    if (p.type) {
      if (p.fromDictionary) {
        const w = byStart.get(start);
        if (!w || w.end !== at || typeOfTag(w.tag) !== p.type) return false;
      }
      out.push(p);
      continue;
    }
    // Split an unlabelled piece around the names jieba tags inside it.
    let cursor = start;
    for (const w of words) {
      if (w.start < start || w.end > at) continue;
      const type = typeOfTag(w.tag);
      if (!type || !plausibleName(type, w.word)) continue;
      if (w.start > cursor) out.push({ text: text.slice(cursor, w.start), type: null });
      out.push({ text: w.word, type });
      cursor = w.end;
    }
    if (cursor < at) out.push({ text: text.slice(cursor, at), type: null });
  }
  pieces.splice(0, pieces.length, ...out);
  return true;
}

// ---------------------------------------------------------------------------
// Noise.

const EMOJI = ['😂', '🙏', '👍', '🔥', '💪', '😭', '🤔', '📚', '🎧', '🏀', '⚽', '⚽️', '🏃‍♂️', '🧘‍♀️', '❤️', '✨', '😅', '🥲', '🤣', '👀', '💯', '🙌', '😊', '🥺', '📖', '🎸', '🍳', '📷', '💰', '⏰', '🇨🇳', '👩‍💻', '🤷‍♀️', '😍', '🆘'];
const FILLER: Record<Script, { before: readonly string[]; after: readonly string[] }> = {
  zh: {
    before: ['嗯，', '那个，', '就是说，', 'emmm ', '请问', '老师好，', '求助：', '家人们，', '宝子们，', '姐妹们，', '救命，', '急急急，', 'hello，', '问一下，', '说真的，'],
    after: ['，谢谢', '，急', '，在线等', '哈哈哈', '，求求了', '，yyds', '，蹲', '，dd', '，感谢', '，冲冲冲', '～', '啊啊啊', '，真的会谢'],
  },
  en: {
    before: ['hey, ', 'hi! ', 'ok so ', 'um, ', 'so like, ', 'tbh ', 'ngl ', 'quick q: ', 'hello team, ', 'question: ', 'btw '],
    after: [' lol', ' lmao', ' thx', ' ty', ' pls', ' tbh', ' haha', ' imo', ' fr', ' asap', ' :)', ' :(', ' idk'],
  },
};
const FULL_TO_HALF: Record<string, string> = { '，': ',', '。': '.', '？': '?', '！': '!', '：': ':', '；': ';', '（': '(', '）': ')' };
const HALF_TO_FULL: Record<string, string> = Object.fromEntries(Object.entries(FULL_TO_HALF).map(([f, h]) => [h, f]));
const END_PUNCT = /[。！？!?.~～]+$/;

const mapChars = (text: string, table: Record<string, string>) => [...text].map((c) => table[c] ?? c).join('');
const toFullWidth = (text: string) => text.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

/** One typo in a Latin word of four letters or more: two letters swapped, one dropped or one doubled. */
function typo(random: Random, word: string): string {
  const i = 1 + random.int(word.length - 2);
  switch (random.int(3)) {
    case 0: return word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2);
    case 1: return word.slice(0, i) + word.slice(i + 1);
    default: return word.slice(0, i) + word[i] + word.slice(i);
  }
}

const typos = (random: Random, text: string, p: number) => text.replace(/[A-Za-z]{4,}/g, (w) => (chance(random, p) ? typo(random, w) : w));

function recase(random: Random, text: string): string {
  const r = random.int(3);
  if (r === 0) return text.toLowerCase();
  if (r === 1) return text.toUpperCase();
  return text.replace(/[A-Za-z]+/g, (w) => w[0].toUpperCase() + w.slice(1).toLowerCase());
}

function addNoise(random: Random, pieces: Piece[], script: Script, scale: number): void {
  const p = (x: number) => chance(random, Math.min(1, x * scale));
  const latin = (t: string) => /[A-Za-z]/.test(t);
  // Casing and typos.
  const lowerAll = script === 'en' && p(0.15);
  for (const piece of pieces) {
    if (!latin(piece.text)) continue;
    if (lowerAll) piece.text = piece.text.toLowerCase();
    if (piece.type && piece.type !== 'BUDGET') {
      if (p(0.15)) piece.text = recase(random, piece.text);
      if (piece.type !== 'PERSON') piece.text = typos(random, piece.text, 0.02 * scale);
    } else if (!piece.type) {
      piece.text = typos(random, piece.text, 0.05 * scale);
    }
    // Missing spaces: inside unlabelled text more often than inside a name.
    const drop = piece.type ? 0.02 : 0.05;
    piece.text = piece.text.replace(piece.type ? /(?<=\S) (?=\S)/g : / /g, (s) => (chance(random, drop * scale) ? '' : s));
  }
  const first = pieces.find((x) => x.text.length > 0);
  if (first && script === 'en' && !first.type && p(0.35)) first.text = first.text[0].toUpperCase() + first.text.slice(1);
  if (script === 'en' && p(0.02)) for (const piece of pieces) piece.text = piece.text.toUpperCase();
  // Width: half-width punctuation in Chinese, full-width in English, full-width letters and digits anywhere.
  if (script === 'zh' && p(0.25)) for (const piece of pieces) if (!piece.type) piece.text = mapChars(piece.text, FULL_TO_HALF);
  if (script === 'en' && p(0.05)) for (const piece of pieces) if (!piece.type) piece.text = mapChars(piece.text, HALF_TO_FULL);
  if (p(0.02)) {
    const target = pick(random, pieces);
    target.text = toFullWidth(target.text);
  }
  // End punctuation: dropped, repeated, or added.
  const last = pieces[pieces.length - 1];
  if (last && !last.type) {
    if (p(0.2)) last.text = last.text.replace(END_PUNCT, '');
    else if (p(0.15)) {
      const mark = pick(random, script === 'zh' ? ['！', '？', '。', '!', '?', '～', '.'] : ['!', '?', '.', '~']);
      last.text = last.text.replace(END_PUNCT, '') + mark.repeat(2 + random.int(3));
    }
  } else if (last && p(0.3)) {
    pieces.push({ text: pick(random, script === 'zh' ? ['。', '！', '？', '~', '...'] : ['.', '!', '?', '...', '!!']), type: null });
  }
  // An unlabelled clause of everyday words before or after the demand ("说实话感觉挺好的，…").
  if (script === 'zh' && p(0.35)) {
    const words = plainWords();
    const clause = Array.from({ length: 2 + random.int(4) }, () => pick(random, words)).join('');
    const mark = pick(random, ['，', ',', '。', ' ', '！']);
    if (chance(random, 0.5)) pieces.unshift({ text: clause + mark, type: null });
    else pieces.push({ text: mark + clause, type: null });
  }
  // Filler and slang at the ends, emoji at the end or between pieces.
  if (p(0.15)) pieces.unshift({ text: pick(random, FILLER[script].before), type: null });
  if (p(0.1)) pieces.push({ text: pick(random, FILLER[script].after), type: null });
  if (p(0.2)) {
    const n = 1 + random.int(3);
    const emoji = Array.from({ length: n }, () => pick(random, EMOJI)).join(chance(random, 0.3) ? ' ' : '');
    const at = chance(random, 0.7) ? pieces.length : random.int(pieces.length + 1);
    pieces.splice(at, 0, { text: (chance(random, 0.4) ? ' ' : '') + emoji, type: null });
  }
}

/** Spaces, or none, where Chinese meets a Latin entity ("学Python" / "学 Python "). */
function spaceScripts(random: Random, pieces: Piece[], scale: number): Piece[] {
  const out: Piece[] = [];
  const han = (c: string | undefined) => c !== undefined && /\p{Script=Han}/u.test(c);
  const latinEdge = (c: string | undefined) => c !== undefined && /[A-Za-z0-9]/.test(c);
  for (let k = 0; k < pieces.length; k++) {
    const prev = out[out.length - 1];
    const cur = pieces[k];
    if (prev && (cur.type || prev.type)) {
      const a = prev.text[prev.text.length - 1];
      const b = cur.text[0];
      if (((han(a) && latinEdge(b)) || (latinEdge(a) && han(b))) && chance(random, Math.min(1, 0.35 * Math.max(scale, 0.3)))) out.push({ text: ' ', type: null });
    }
    out.push(cur);
  }
  return out;
}

function finish(pieces: readonly Piece[]): AnnotatedText {
  let text = '';
  const entities: Span[] = [];
  for (const p of pieces) {
    if (p.text.length === 0) continue;
    if (p.type) entities.push({ type: p.type, start: text.length, end: text.length + p.text.length });
    text += p.text;
  }
  return { text, entities };
}

// ---------------------------------------------------------------------------

type Kind = 'zh' | 'en' | 'mixed' | 'names' | 'empty';
const KINDS: readonly (readonly [Kind, number])[] = [['zh', 0.36], ['en', 0.28], ['mixed', 0.14], ['names', 0.12], ['empty', 0.1]];

function drawKind(random: Random): Kind {
  let r = random.next();
  for (const [kind, w] of KINDS) {
    if ((r -= w) < 0) return kind;
  }
  return 'zh';
}

/**
 * `sentences` weakly-labelled sentences, the same for the same options:
 * about 36% Chinese demands, 28% English, 14% code-switched, 12% Chinese
 * remarks about people, places and organisations (half with a demand
 * after them), 10% without entities; one demand in eight runs on into a
 * second.
 */
export function generateCorpus(options: CorpusOptions): AnnotatedText[] {
  const random = new Random(options.seed);
  const scale = options.noise ?? 1;
  const t = templates();
  const out: AnnotatedText[] = [];
  const context = (script: Script, dictionaryRate = 0): Context => ({
    random,
    script,
    switchRate: script === 'zh' ? SWITCH_FROM_ZH : SWITCH_FROM_EN,
    gazetteer: options.gazetteer,
    gazetteerRate: options.gazetteerRate ?? 0.3,
    dictionaryRate,
    pieces: [],
  });
  const runOn = (ctx: Context, list: Node[][]) => {
    if (!chance(random, 0.12)) return;
    ctx.pieces.push({ text: ctx.script === 'zh' ? pick(random, ['，', '，还有', '。另外', ' ', '，顺便问下', '；']) : pick(random, [', also ', '. also ', ' and ', ' ', '; btw ', '. oh and ']), type: null });
    expand(ctx, pick(random, list));
  };
  for (let n = 0; n < options.sentences; n++) {
    const kind = drawKind(random);
    let ctx: Context;
    if (kind === 'names') {
      ctx = context('zh', 0.5);
      const template = pick(random, t.zhNames);
      for (let attempt = 0; ; attempt++) {
        ctx.pieces = [];
        if (attempt === 3) ctx.dictionaryRate = 0;
        expand(ctx, template);
        if (confirmWithJieba(ctx.pieces)) break;
      }
      ctx.dictionaryRate = 0;
      if (chance(random, 0.5)) {
        ctx.pieces.push({ text: pick(random, ['，', '。', '，另外', '。顺便问下，']), type: null });
        expand(ctx, pick(random, t.zhDemands));
      }
    } else if (kind === 'empty') {
      ctx = context(chance(random, 0.55) ? 'zh' : 'en');
      expand(ctx, pick(random, ctx.script === 'zh' ? t.zhEmpty : t.enEmpty));
    } else {
      const script: Script = kind === 'en' ? 'en' : kind === 'mixed' ? (chance(random, 0.5) ? 'zh' : 'en') : 'zh';
      ctx = context(script);
      const list = kind === 'zh' ? t.zhDemands : kind === 'en' ? t.enDemands : t.mixedDemands;
      expand(ctx, pick(random, list));
      runOn(ctx, kind === 'mixed' ? (script === 'zh' ? t.zhDemands : t.enDemands) : list);
    }
    let pieces = spaceScripts(random, ctx.pieces, scale);
    if (scale > 0) addNoise(random, pieces, ctx.script, scale);
    pieces = pieces.filter((p) => p.text.length > 0);
    out.push(finish(pieces));
  }
  return out;
}
