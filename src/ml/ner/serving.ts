import type { ModelCall, ServedVersion } from '../recommend/serving';
import { SESSION_OVERHEAD_BYTES } from '../recommend/serving';
import type { LoadedModel, SessionCache } from '../runtime/cache';
import type { ModelRuntime } from '../runtime/runtime';
import { BERT_FORMAT, tagWithBert, type BertMeta } from './bert';
import { decodeTags, LABELS, type TaggedSpan } from './tagger';
import { encodeInto, vocabularyOfCodes, type Vocabulary } from './vocab';
import { WordPieceTokenizer } from './wordpiece';

/** How a tagger's artifact describes itself beside its graph. */
export const TAGGER_FORMAT = 'allied.ner.tagger.v1';

export interface TaggerMeta {
  format: typeof TAGGER_FORMAT;
  /** The folded units by id the graph's embedding rows stand for, as codes after the two reserved ids (vocab.ts, unitCodes). */
  codes: number[];
}

/** What a loaded NER version keeps beside its session. */
type Loaded = { format: typeof TAGGER_FORMAT; vocab: Vocabulary } | { format: typeof BERT_FORMAT; meta: BertMeta; tokenizer: WordPieceTokenizer };

/** A batch's entities, and whether they come from Allied's character tagger (merged with the lexicon when served) or a registered BERT graph (served as they are). */
export interface NerResult {
  spans: TaggedSpan[][];
  tagger: boolean;
}

/**
 * Serves NER versions, Allied's character taggers and registered BERT
 * graphs alike: a version's session is loaded once into the shared cache
 * with its vocabulary; a batch of texts is one model call (padded to the
 * longest, masked), each decoded on its own.
 */
export class NerServing {
  constructor(
    private readonly runtime: ModelRuntime,
    private readonly cache: SessionCache<unknown>,
    private readonly observe: (call: ModelCall) => void,
  ) {}

  async tag(version: ServedVersion, texts: readonly string[]): Promise<NerResult> {
    return this.cache.use(
      version.id,
      () => this.load(version),
      async (loaded) => {
        const model = loaded as LoadedModel<Loaded>;
        const started = performance.now();
        const live = texts.filter((t) => t.length > 0).length;
        const spans =
          model.meta.format === BERT_FORMAT
            ? await tagWithBert(model.session, model.meta.meta, model.meta.tokenizer, texts)
            : await this.runTagger(model.session, model.meta.vocab, texts);
        if (live > 0) this.observe({ versionId: version.id, kind: 'NER', batch: live, ms: performance.now() - started });
        return { spans, tagger: model.meta.format === TAGGER_FORMAT };
      },
    );
  }

  private async runTagger(session: LoadedModel<unknown>['session'], vocab: Vocabulary, texts: readonly string[]): Promise<TaggedSpan[][]> {
    const live = texts.filter((t) => t.length > 0);
    if (live.length === 0) return texts.map(() => []);
    const T = Math.max(...live.map((t) => t.length));
    const ids = new Int32Array(live.length * T);
    const mask = new Float32Array(live.length * T);
    live.forEach((text, b) => {
      encodeInto(text, vocab, ids, b * T);
      mask.fill(1, b * T, b * T + text.length);
    });
    const out = await session.run({ ids: { data: ids, dims: [live.length, T] }, mask: { data: mask, dims: [live.length, 1, T] } });
    const logits = out.logits.data as Float32Array;
    const decoded = live.map((text, b) => decodeTags(logits.subarray(b * T * LABELS, (b * T + text.length) * LABELS), text.length));
    let next = 0;
    return texts.map((t) => (t.length > 0 ? decoded[next++] : []));
  }

  private async load(version: ServedVersion): Promise<LoadedModel<Loaded>> {
    const artifact = await version.load();
    const format = artifact.meta.format;
    const session = await this.runtime.load(artifact.bytes);
    if (format === TAGGER_FORMAT) {
      const meta = artifact.meta as unknown as TaggerMeta;
      return { session, meta: { format, vocab: vocabularyOfCodes(meta.codes) }, bytes: SESSION_OVERHEAD_BYTES + artifact.bytes.byteLength + meta.codes.length * 60 };
    }
    if (format === BERT_FORMAT) {
      const meta = artifact.meta as unknown as BertMeta;
      const tokenizer = new WordPieceTokenizer(meta.vocab, { lowercase: meta.lowercase });
      return { session, meta: { format, meta, tokenizer }, bytes: SESSION_OVERHEAD_BYTES + artifact.bytes.byteLength + meta.vocab.length * 80 };
    }
    await session.release();
    throw new Error(`model ${version.id} is not a NER model (${String(format)})`);
  }
}
