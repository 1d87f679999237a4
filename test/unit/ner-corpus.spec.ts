import { DEMO_BRANDS } from '../../src/demo';
import { CourseFormat, CourseLevel } from '../../src/entities/enums';
import { extractWithPatterns } from '../../src/ml/ner/baseline';
import {
  corpusStats,
  gazetteerFromCatalog,
  generateCorpus,
  languageOf,
  sampleBudget,
  toChineseNumeral,
  toEnglishNumber,
  type Gazetteer,
} from '../../src/ml/ner/corpus';
import { dictionaryNames, jiebaNames } from '../../src/ml/ner/jieba';
import { FORMAT_PHRASES, LEVEL_PHRASES, TOPICS, concepts, lexiconEntries, timePhrases } from '../../src/ml/ner/lexicon';
import { foldForMatch, normalise, parseEnglishNumber, parseNumber, TIME_SLOTS } from '../../src/ml/ner/normalise';
import { bioToSpans, DEMAND_TYPES, spansToBio, type AnnotatedText, type DemandType, type Span } from '../../src/ml/ner/types';
import { Random } from '../../src/ml/train/random';

/** Demand extraction's weak supervision: the lexicon, the normaliser, the generated corpus and the pattern baseline. */

const show = (text: string, spans: readonly Span[]) => spans.map((s) => [s.type, text.slice(s.start, s.end)]);

describe('lexicon', () => {
  it('lists a few hundred topics in both scripts, across domains', () => {
    const topicConcepts = concepts(TOPICS);
    expect(topicConcepts.length).toBeGreaterThanOrEqual(300);
    expect(Object.keys(TOPICS)).toEqual(expect.arrayContaining(['programming', 'data', 'languages', 'finance', 'fitness', 'running', 'football', 'basketball', 'yoga', 'cooking', 'music', 'photography', 'literature', 'history', 'design', 'parenting', 'exams']));
    const topics = lexiconEntries('TOPIC');
    expect(topics.filter((e) => e.script === 'zh').length).toBeGreaterThan(300);
    expect(topics.filter((e) => e.script === 'en').length).toBeGreaterThan(300);
    for (const alias of ['py', 'Python', 'python3', 'ML', '经典文学', 'data analysis', '数据可视化']) expect(topics.map((e) => e.text)).toContain(alias);
  });

  it('keeps every phrase under one type, and every time phrase under one slot', () => {
    const owner = new Map<string, DemandType>();
    const clashes: string[] = [];
    for (const type of DEMAND_TYPES) {
      for (const e of lexiconEntries(type)) {
        const key = foldForMatch(e.text);
        const seen = owner.get(key);
        if (seen && seen !== type) clashes.push(`${e.text}: ${seen}/${type}`);
        owner.set(key, type);
      }
    }
    expect(clashes).toEqual([]);
    const slotOf = new Map<string, string>();
    for (const [slot, list] of timePhrases()) {
      for (const p of list) {
        expect([p, slotOf.get(p) ?? slot]).toEqual([p, slot]);
        slotOf.set(p, slot);
      }
    }
  });

  it('normalises each LEVEL, FORMAT and TIME phrase to the value it is listed under', () => {
    for (const [level, list] of Object.entries(LEVEL_PHRASES)) for (const p of list) expect([p, normalise('LEVEL', p)]).toEqual([p, level]);
    for (const [format, list] of Object.entries(FORMAT_PHRASES)) for (const p of list) expect([p, normalise('FORMAT', p)]).toEqual([p, format]);
    for (const [slot, list] of timePhrases()) for (const p of list) expect([p, normalise('TIME', p)]).toEqual([p, slot]);
    expect(new Set(timePhrases().keys())).toEqual(new Set(TIME_SLOTS));
  });
});

describe('numbers', () => {
  it.each([
    ['两百', 200], ['二百', 200], ['三千五', 3500], ['三千五百', 3500], ['一百五十', 150], ['一百五', 150], ['十五', 15], ['二十', 20],
    ['一千零五十', 1050], ['一千零五', 1005], ['一万二', 12000], ['两万', 20000], ['十万', 100000], ['壹佰', 100],
    ['1.5k', 1500], ['2万', 20000], ['1.5万', 15000], ['1万5', 15000], ['10w', 100000], ['1,299', 1299], ['9.9', 9.9], ['２００', 200],
  ])('reads %s as %d', (text, value) => {
    expect(parseNumber(text)).toBe(value);
  });

  it('refuses what is not one number', () => {
    for (const text of ['', '二零二四', '12a', '元']) expect(parseNumber(text)).toBeNull();
  });

  it('writes Chinese and English numerals the parsers read back', () => {
    const random = new Random(7);
    for (let i = 0; i < 2000; i++) {
      const n = i < 200 ? i + 1 : 1 + random.int(i < 1500 ? 10_000 : 99_999_999);
      expect([n, parseNumber(toChineseNumeral(n, random))]).toEqual([n, n]);
      expect([n, parseNumber(toChineseNumeral(n))]).toEqual([n, n]);
      if (n < 1e6) expect([n, parseEnglishNumber(toEnglishNumber(n))]).toEqual([n, n]);
    }
    expect(toChineseNumeral(3500)).toBe('三千五百');
    expect(toEnglishNumber(150)).toBe('a hundred and fifty');
  });
});

describe('normalise', () => {
  // Text, currency, minMinor, maxMinor (null where unset).
  it.each<[string, string, number | null, number | null]>([
    ['200元以内', 'CNY', null, 20000], ['100-200块', 'CNY', 10000, 20000], ['under $50', 'USD', null, 5000],
    ['三百块', 'CNY', null, 30000], ['不超过三百块', 'CNY', null, 30000], ['两三百块', 'CNY', 20000, 30000],
    ['一两百', 'CNY', 10000, 20000], ['几百块', 'CNY', 20000, 90000], ['三千五左右', 'CNY', 280000, 420000],
    ['1.5k以内', 'CNY', null, 150000], ['2万以下', 'CNY', null, 2000000], ['一到两万', 'CNY', 1000000, 2000000],
    ['1-2k', 'CNY', 100000, 200000], ['500-1k元', 'CNY', 50000, 100000], ['99元起', 'CNY', 9900, null],
    ['至少500', 'CNY', 50000, null], ['￥199', 'CNY', null, 19900], ['２００元以内', 'CNY', null, 20000],
    ['9.9元', 'CNY', null, 990], ['200 kuai', 'CNY', null, 20000], ['200rmb', 'CNY', null, 20000],
    ['100刀以内', 'USD', null, 10000], ['50美元', 'USD', null, 5000], ['between $100 and $200', 'USD', 10000, 20000],
    ['$100-$200', 'USD', 10000, 20000], ['100 to 200 dollars', 'USD', 10000, 20000], ['USD 100 - 200', 'USD', 10000, 20000],
    ['$30 max', 'USD', null, 3000], ['no more than 30 bucks', 'USD', null, 3000], ['at least $100', 'USD', 10000, null],
    ['$50+', 'USD', 5000, null], ['around $300', 'USD', 24000, 36000], ['$19.99', 'USD', null, 1999],
    ['$1,299', 'USD', null, 129900], ['fifty bucks', 'USD', null, 5000], ['under a hundred dollars', 'USD', null, 10000],
    ['under 50', 'USD', null, 5000], ['£20ish', 'GBP', 1600, 2400], ['€80 or less', 'EUR', null, 8000],
    ['HK$500', 'HKD', null, 50000], ['3000日元', 'JPY', null, 3000], ['免费', 'CNY', null, 0],
    ['for free', 'USD', null, 0],
  ])('BUDGET %s', (text, currency, min, max) => {
    expect(normalise('BUDGET', text)).toEqual({ currency, ...(min === null ? {} : { minMinor: min }), ...(max === null ? {} : { maxMinor: max }) });
  });

  it('takes the default currency for an amount that names none, and nothing from no amount', () => {
    expect(normalise('BUDGET', '200', { defaultCurrency: 'USD' })).toEqual({ currency: 'USD', maxMinor: 20000 });
    expect(normalise('BUDGET', '200')).toEqual({ currency: 'CNY', maxMinor: 20000 });
    for (const text of ['', '便宜点', 'cheap']) expect(normalise('BUDGET', text)).toBeNull();
  });

  it('agrees with what the corpus means by each budget it writes', () => {
    const random = new Random(3);
    for (let i = 0; i < 3000; i++) {
      const { text, value } = sampleBudget(random, i % 2 ? 'zh' : 'en', i % 3 === 0);
      expect([text, normalise('BUDGET', text)]).toEqual([text, value]);
    }
  });

  it.each([
    ['零基础', CourseLevel.BEGINNER], ['小白', CourseLevel.BEGINNER], ['从入门到精通', CourseLevel.BEGINNER], ['beginner', CourseLevel.BEGINNER],
    ['Complete Beginner', CourseLevel.BEGINNER], ['没有基础', CourseLevel.BEGINNER], ['有一定基础', CourseLevel.INTERMEDIATE], ['进阶', CourseLevel.INTERMEDIATE],
    ['not a beginner', CourseLevel.INTERMEDIATE], ['intermediate to advanced', CourseLevel.INTERMEDIATE], ['高级', CourseLevel.ADVANCED],
    ['expert-level', CourseLevel.ADVANCED], ['pro level', CourseLevel.ADVANCED],
  ])('LEVEL %s', (text, value) => {
    expect(normalise('LEVEL', text)).toBe(value);
  });

  it.each([
    ['视频', CourseFormat.VIDEO], ['录播课', CourseFormat.VIDEO], ['Video', CourseFormat.VIDEO], ['音频', CourseFormat.AUDIO], ['podcast', CourseFormat.AUDIO],
    ['电子书', CourseFormat.ARTICLE], ['PDF', CourseFormat.ARTICLE], ['直播', CourseFormat.LIVE], ['一对一', CourseFormat.LIVE], ['in-person', CourseFormat.LIVE],
    ['livestream', CourseFormat.LIVE], ['套餐', CourseFormat.BUNDLE], ['full series', CourseFormat.BUNDLE], ['视频或音频', CourseFormat.VIDEO],
  ])('FORMAT %s', (text, value) => {
    expect(normalise('FORMAT', text)).toBe(value);
  });

  it.each([
    ['周末晚上', 'WEEKEND_EVENING'], ['周六上午', 'WEEKEND'], ['周末', 'WEEKEND'], ['saturday nights', 'WEEKEND_EVENING'], ['friday night', 'WEEKEND_EVENING'],
    ['工作日晚上', 'WEEKDAY_EVENING'], ['下班后', 'WEEKDAY_EVENING'], ['after work', 'WEEKDAY_EVENING'], ['weeknights', 'WEEKDAY_EVENING'],
    ['上班前', 'WEEKDAY_MORNING'], ['weekday mornings', 'WEEKDAY_MORNING'], ['工作日下午', 'WEEKDAY_DAYTIME'], ['weekdays', 'WEEKDAY_DAYTIME'], ['下午', 'WEEKDAY_DAYTIME'],
    ['evenings', 'EVENING'], ['晚上', 'EVENING'], ['睡前', 'EVENING'], ['每天晚上', 'EVENING'], ['after 8pm', 'EVENING'], ['20:00', 'EVENING'], ['8点以后', 'EVENING'],
    ['晚上八点半', 'EVENING'], ['早上', 'MORNING'], ['7am', 'MORNING'], ['every morning', 'MORNING'], ['中午', 'LUNCH'], ['lunch break', 'LUNCH'], ['12点', 'LUNCH'],
    ['每天', 'DAILY'], ['30 minutes a day', 'DAILY'], ['每天半小时', 'DAILY'], ['随时', 'FLEXIBLE'], ['碎片时间', 'FLEXIBLE'], ['self-paced', 'FLEXIBLE'],
    ['周末晚上8点以后', 'WEEKEND_EVENING'], ['saturdays at 10am', 'WEEKEND'], ['weekdays after 7pm', 'WEEKDAY_EVENING'],
  ])('TIME %s', (text, value) => {
    expect(normalise('TIME', text)).toBe(value);
  });

  it('gives canonical names for listed topics and names, the cleaned text for others, null for nothing', () => {
    expect(normalise('TOPIC', 'py')).toBe('Python');
    expect(normalise('TOPIC', 'PYTHON3')).toBe('Python');
    expect(normalise('TOPIC', 'ML')).toBe('machine learning');
    expect(normalise('TOPIC', '《数据可视化》')).toBe('data visualization');
    expect(normalise('TOPIC', ' 量子冥想 ')).toBe('量子冥想');
    expect(normalise('ORG', '北大')).toBe('Peking University');
    expect(normalise('LOC', 'nyc')).toBe('New York');
    expect(normalise('PERSON', '姚明')).toBe('Yao Ming');
    expect(normalise('TOPIC', '  ')).toBeNull();
    for (const type of ['LEVEL', 'FORMAT', 'TIME'] as const) expect(normalise(type, '随便看看吧哈')).toBeNull();
  });
});

describe('corpus', () => {
  let corpus: AnnotatedText[];
  let millis: number;
  beforeAll(() => {
    generateCorpus({ sentences: 10, seed: 99 }); // jieba and its dictionary, loaded once
    const t0 = performance.now();
    corpus = generateCorpus({ sentences: 20_000, seed: 1 });
    millis = performance.now() - t0;
  });

  it('generates 20,000 sentences well within 10 s', () => {
    expect(corpus).toHaveLength(20_000);
    expect(millis).toBeLessThan(5000);
  });

  it('is the same for a seed and differs across seeds', () => {
    expect(generateCorpus({ sentences: 2000, seed: 1 })).toEqual(corpus.slice(0, 2000));
    const other = generateCorpus({ sentences: 2000, seed: 2 });
    expect(other.filter((s, i) => s.text === corpus[i].text).length).toBeLessThan(100);
  });

  it('labels spans exactly: inside the text, trimmed, whole code points, in order, never overlapping', () => {
    const bad: unknown[] = [];
    for (const { text, entities } of corpus) {
      let end = 0;
      for (const e of entities) {
        const slice = text.slice(e.start, e.end);
        const ok = e.start >= end && e.end > e.start && e.end <= text.length && slice.trim() === slice && !/^[\udc00-\udfff]|[\ud800-\udbff]$/.test(slice);
        if (!ok) bad.push([text, e, slice]);
        end = e.end;
      }
      const back = bioToSpans(spansToBio(text, entities));
      if (JSON.stringify(back) !== JSON.stringify(entities)) bad.push([text, entities, back]);
    }
    expect(bad).toEqual([]);
  });

  it('has every type at a reasonable frequency, sentences without entities, and all three languages', () => {
    const stats = corpusStats(corpus);
    const total = Object.values(stats.entities).reduce((a, b) => a + b, 0);
    for (const type of DEMAND_TYPES) expect([type, stats.entities[type] / total > 0.03]).toEqual([type, true]);
    expect(Math.max(...Object.values(stats.entities))).toBe(stats.entities.TOPIC);
    expect(stats.withoutEntities / stats.sentences).toBeGreaterThan(0.05);
    expect(stats.withoutEntities / stats.sentences).toBeLessThan(0.2);
    for (const lang of ['zh', 'en', 'mixed'] as const) expect([lang, stats.languages[lang] / stats.sentences > 0.2]).toEqual([lang, true]);
  });

  it('varies its sentences and carries the noise it promises', () => {
    const texts = corpus.map((s) => s.text);
    expect(new Set(texts).size / texts.length).toBeGreaterThan(0.95);
    const share = (re: RegExp) => texts.filter((t) => re.test(t)).length / texts.length;
    expect(share(/[\ud800-\udbff][\udc00-\udfff]/)).toBeGreaterThan(0.05); // astral-plane emoji
    expect(share(/\u200d/)).toBeGreaterThan(0.005); // ZWJ sequences
    expect(share(/[!?！？。.~～]{2,}/)).toBeGreaterThan(0.03); // repeated punctuation
    expect(share(/\p{Script=Han}[,?!:;]/u)).toBeGreaterThan(0.03); // half-width punctuation in Chinese
    expect(share(/[\uff21-\uff5a\uff10-\uff19]/)).toBeGreaterThan(0.002); // full-width letters and digits
    expect(share(/^[a-z]/)).toBeGreaterThan(0.1); // lower-case starts
    expect(share(/\p{Script=Han}[A-Za-z]|[A-Za-z]\p{Script=Han}/u)).toBeGreaterThan(0.05); // no space between scripts
    const clean = new Set(generateCorpus({ sentences: 20_000, seed: 1, noise: 0 }).flatMap((s) => s.text.match(/[a-z]{4,}/gi) ?? []).map((w) => w.toLowerCase()));
    const noisy = texts.flatMap((t) => t.match(/[a-z]{4,}/gi) ?? []).map((w) => w.toLowerCase());
    expect(noisy.filter((w) => !clean.has(w)).length / noisy.length).toBeGreaterThan(0.01); // typos and missing spaces
  });

  it('writes LEVEL, FORMAT, TIME and BUDGET spans the normaliser reads, all of them without noise', () => {
    const unread = (c: readonly AnnotatedText[]) => {
      let n = 0;
      let missed = 0;
      for (const { text, entities } of c) {
        for (const e of entities) {
          if (e.type !== 'LEVEL' && e.type !== 'FORMAT' && e.type !== 'TIME' && e.type !== 'BUDGET') continue;
          n++;
          if (normalise(e.type, text.slice(e.start, e.end)) === null) missed++;
        }
      }
      return missed / n;
    };
    expect(unread(generateCorpus({ sentences: 5000, seed: 5, noise: 0 }))).toBe(0);
    expect(unread(corpus)).toBeLessThan(0.02);
  });

  it('puts names outside the lists, confirmed by jieba', () => {
    const listed = new Set(['PERSON', 'ORG', 'LOC'].flatMap((t) => lexiconEntries(t as DemandType).map((e) => e.text)));
    const dictionary = dictionaryNames();
    expect(dictionary.PERSON.length).toBeGreaterThan(5000);
    expect(dictionary.LOC.length).toBeGreaterThan(1000);
    expect(dictionary.ORG.length).toBeGreaterThan(500);
    const fromDictionary = new Set([...dictionary.PERSON, ...dictionary.LOC, ...dictionary.ORG]);
    const names = corpus.flatMap(({ text, entities }) => entities.filter((e) => e.type === 'PERSON' || e.type === 'ORG' || e.type === 'LOC').map((e) => text.slice(e.start, e.end)));
    const unlisted = names.filter((n) => !listed.has(n));
    expect(unlisted.length / names.length).toBeGreaterThan(0.3);
    expect(names.filter((n) => fromDictionary.has(n)).length).toBeGreaterThan(500);
  });

  it("fills slots from a brand's own gazetteer", () => {
    const gazetteer: Gazetteer = { ...gazetteerFromCatalog(DEMO_BRANDS.flatMap((b) => b.courses)), people: ['Coach Alvarez'] };
    expect(gazetteer.topics).toEqual(expect.arrayContaining(['python', 'data analysis', '数据可视化', 'football', 'coaching']));
    const extra: Gazetteer = { ...gazetteer, topics: [...(gazetteer.topics ?? []), '量子冥想', 'zorbing'] };
    const texts = generateCorpus({ sentences: 3000, seed: 11, gazetteer: extra }).flatMap(({ text, entities }) => entities.map((e) => `${e.type}:${text.slice(e.start, e.end).toLowerCase()}`));
    for (const label of ['TOPIC:量子冥想', 'TOPIC:zorbing', 'TOPIC:youth football coaching fundamentals', 'TOPIC:数据可视化入门', 'PERSON:coach alvarez']) {
      expect([label, texts.includes(label)]).toEqual([label, true]);
    }
    const without = generateCorpus({ sentences: 3000, seed: 11 }).map((s) => s.text);
    expect(without.some((t) => t.includes('量子冥想'))).toBe(false);
  });

  it('tells the languages apart by script', () => {
    expect(languageOf('想学Python')).toBe('mixed');
    expect(languageOf('想学编程，200元')).toBe('zh');
    expect(languageOf('need python, $50')).toBe('en');
  });
});

describe('baseline', () => {
  it.each([
    ['想找周末晚上能听的经典文学导读，音频就行，200元以内', [['TIME', '周末晚上'], ['TOPIC', '经典文学'], ['FORMAT', '音频'], ['BUDGET', '200元以内']]],
    ['need a beginner Python course, video, evenings', [['LEVEL', 'beginner'], ['TOPIC', 'Python'], ['FORMAT', 'video'], ['TIME', 'evenings']]],
    ['想学PYTHON和ｐｙｔｈｏｎ３，零基础', [['TOPIC', 'PYTHON'], ['TOPIC', 'ｐｙｔｈｏｎ３'], ['LEVEL', '零基础']]],
    ['跟王老师学历史，历史老师说周末晚上8点以后上课', [['PERSON', '王'], ['TOPIC', '历史'], ['TOPIC', '历史'], ['TIME', '周末晚上8点以后']]],
    ['Coach Li said under 5 minutes a day, under $50', [['PERSON', 'Li'], ['BUDGET', 'under $50']]],
    ['我在上海浦东新区，想找李娜那样的网球教练，预算3000', [['LOC', '上海浦东新区'], ['PERSON', '李娜'], ['TOPIC', '网球'], ['BUDGET', '3000']]],
    ['我们一块学吧，两三百块也行', [['BUDGET', '两三百块']]],
    ['html and xml, not ML', [['TOPIC', 'ML']]],
    ['weekday evenings after 8pm, between $100 and $200, LeBron James style', [['TIME', 'weekday evenings'], ['TIME', 'after 8pm'], ['BUDGET', 'between $100 and $200'], ['PERSON', 'LeBron James']]],
    ['谢谢老师，讲得很清楚', []],
  ])('%s', (text, expected) => {
    expect(show(text, extractWithPatterns(text))).toEqual(expected);
  });

  it("matches a brand's gazetteer before the lexicon", () => {
    const gazetteer: Gazetteer = { titles: ['数据可视化入门'], topics: ['量子冥想'] };
    const text = '想报数据可视化入门，还有量子冥想';
    expect(show(text, extractWithPatterns(text))).toEqual([['TOPIC', '数据可视化'], ['LEVEL', '入门'], ['TOPIC', '冥想']]);
    expect(show(text, extractWithPatterns(text, gazetteer))).toEqual([['TOPIC', '数据可视化入门'], ['TOPIC', '量子冥想']]);
  });

  it('labels jieba names that look like names', () => {
    const text = '昨天和周建国在石景山区聊了北京理工大学的事';
    expect(show(text, jiebaNames(text))).toEqual(expect.arrayContaining([['LOC', '石景山区'], ['ORG', '北京理工大学']]));
    expect(show(text, extractWithPatterns(text))).toEqual(expect.arrayContaining([['PERSON', '周建国'], ['LOC', '石景山区'], ['ORG', '北京理工大学']]));
  });

  it('gives ordered, non-overlapping spans on the corpus, and finds most of its clean entities', () => {
    const clean = generateCorpus({ sentences: 2000, seed: 21, noise: 0 });
    let gold = 0;
    let predicted = 0;
    let correct = 0;
    for (const { text, entities } of clean) {
      const spans = extractWithPatterns(text);
      for (let i = 1; i < spans.length; i++) expect(spans[i].start).toBeGreaterThanOrEqual(spans[i - 1].end);
      const key = (s: Span) => `${s.type}:${s.start}:${s.end}`;
      const truth = new Set(entities.map(key));
      gold += entities.length;
      predicted += spans.length;
      correct += spans.filter((s) => truth.has(key(s))).length;
    }
    const precision = correct / predicted;
    const recall = correct / gold;
    expect(precision).toBeGreaterThan(0.7);
    expect(recall).toBeGreaterThan(0.7);
  });
});
