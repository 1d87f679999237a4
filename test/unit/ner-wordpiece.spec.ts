import { parseLabels, readLabel, windowsOf } from '../../src/ml/ner/bert';
import { WordPieceTokenizer } from '../../src/ml/ner/wordpiece';

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'un', '##aff', '##able', 'need', 'a', 'begin', '##ner', 'python', ',', '!', '想', '学', 'cafe', '200', '元'];

const pieces = (t: WordPieceTokenizer, text: string) => t.tokenize(text).map((k) => [k.piece, text.slice(k.start, k.end)]);

describe('WordPiece tokenisation with offsets', () => {
  const uncased = new WordPieceTokenizer(VOCAB, { lowercase: true });

  it('splits words greedily into the longest pieces, each with the span of the original text it came from', () => {
    expect(pieces(uncased, 'unaffable')).toEqual([
      ['un', 'un'],
      ['##aff', 'aff'],
      ['##able', 'able'],
    ]);
    expect(pieces(uncased, 'Need a BEGINNER Python,')).toEqual([
      ['need', 'Need'],
      ['a', 'a'],
      ['begin', 'BEGIN'],
      ['##ner', 'NER'],
      ['python', 'Python'],
      [',', ','],
    ]);
  });

  it('makes each CJK character and each punctuation mark a word, and keeps offsets in UTF-16 code units past emoji', () => {
    const text = '🏃‍♂️想学!200元';
    const tokens = uncased.tokenize(text);
    expect(tokens.map((t) => t.piece)).toEqual(['[UNK]', '想', '学', '!', '200', '元']);
    // The emoji sequence (5 code units with its joiner and variation selector) is one unknown word.
    expect(tokens[0]).toMatchObject({ start: 0, end: text.indexOf('想') });
    expect(tokens.map((t) => text.slice(t.start, t.end))).toEqual([text.slice(0, text.indexOf('想')), '想', '学', '!', '200', '元']);
  });

  it('strips accents when uncased, maps each piece back onto the accented text, and reads a word it cannot split as [UNK]', () => {
    expect(pieces(uncased, 'Café')).toEqual([['cafe', 'Café']]);
    expect(pieces(new WordPieceTokenizer(VOCAB, { lowercase: false }), 'Café')).toEqual([['[UNK]', 'Café']]);
    expect(pieces(uncased, 'unxyz')).toEqual([['[UNK]', 'unxyz']]);
    expect(pieces(uncased, `${'un'.repeat(60)}`)).toEqual([['[UNK]', 'un'.repeat(60)]]);
    expect(uncased.tokenize(' \t\n ')).toEqual([]);
  });

  it('refuses a vocabulary without [CLS], [SEP] or [UNK]', () => {
    expect(() => new WordPieceTokenizer(['[PAD]', '[UNK]', '[SEP]'], { lowercase: true })).toThrow('[CLS]');
  });
});

describe('BERT windows', () => {
  const uncased = new WordPieceTokenizer(VOCAB, { lowercase: true });
  const words = (windows: { piece: string }[][]) => windows.map((w) => w.map((t) => t.piece).join(' '));

  it('end where a word ends, so no word is split between two windows', () => {
    const tokens = uncased.tokenize('beginner beginner unaffable');
    expect(tokens.map((t) => t.piece)).toEqual(['begin', '##ner', 'begin', '##ner', 'un', '##aff', '##able']);
    expect(words(windowsOf(tokens, 3))).toEqual(['begin ##ner', 'begin ##ner', 'un ##aff ##able']);
    expect(words(windowsOf(tokens, 5))).toEqual(['begin ##ner begin ##ner', 'un ##aff ##able']);
    expect(words(windowsOf(tokens, 100))).toEqual(['begin ##ner begin ##ner un ##aff ##able']);
  });

  it('cut a single word longer than a window, the only way it fits', () => {
    expect(words(windowsOf(uncased.tokenize('unaffable'), 2))).toEqual(['un ##aff', '##able']);
    expect(windowsOf([], 4)).toEqual([]);
  });
});

describe('BERT labels', () => {
  it('reads O, B- and I- of Allied types and their usual aliases, and names what it cannot read', () => {
    expect(readLabel('B-PER')).toEqual({ begin: true, type: 'PERSON' });
    expect(readLabel('I-topic')).toEqual({ begin: false, type: 'TOPIC' });
    expect(() => readLabel('B-MISC')).toThrow('MISC is not one of');
    expect(() => readLabel('S-LOC')).toThrow('not O, B-<type> or I-<type>');
  });

  it('takes an array, an index map or a config with id2label', () => {
    expect(parseLabels(['O', 'B-LOC', 'I-LOC'])).toEqual(['O', 'B-LOC', 'I-LOC']);
    expect(parseLabels({ 1: 'B-LOC', 0: 'O' })).toEqual(['O', 'B-LOC']);
    expect(parseLabels({ id2label: { 0: 'O', 1: 'B-ORG', 2: 'I-ORG' } })).toEqual(['O', 'B-ORG', 'I-ORG']);
    expect(() => parseLabels(['B-LOC'])).toThrow('no "O"');
    expect(() => parseLabels({ 0: 'O', 5: 'B-LOC' })).toThrow('not an index');
  });
});
