import { ModelKind } from '../../entities/enums';
import { AlliedError } from '../../errors';
import type { ModelRegistry, ModelVersionRow } from '../registry/registry';
import type { ModelRuntime, ModelSession } from '../runtime/runtime';
import type { TenantScope } from '../tenant';
import { BERT_FORMAT, parseLabels, tagWithBert, type BertMeta } from './bert';
import { WordPieceTokenizer } from './wordpiece';

/** What `allied model register --kind NER` hands over: the files' contents and how to read them. */
export interface BertRegistration {
  onnx: Uint8Array;
  /** vocab.txt: one WordPiece token a line, the line number its id. */
  vocab: string;
  /** labels.json (see parseLabels). */
  labels: string;
  /** Whether the vocabulary is uncased (the text is lower-cased and accents stripped before tokenising). */
  lowercase: boolean;
  /** Tokens per window, [CLS] and [SEP] included; 512 by default. */
  maxTokens?: number;
}

const PROBE_TEXTS = ['need a beginner Python course', '想学经典文学，200元以内'];

/** A text of exactly `tokens` one-token words ("x" is one word, in the vocabulary or [UNK]): a full window. */
const fullWindow = (tokens: number) => Array.from({ length: tokens }, () => 'x').join(' ');

/**
 * Checks a BERT-style token classifier and stores it as the brand's active
 * NER version: the vocabulary must hold [CLS], [SEP] and [UNK], every label
 * must be O, B-<type> or I-<type> of Allied's types, and the graph must load
 * and answer two probe texts and a window of `maxTokens` tokens with logits
 * [batch, tokens, labels] for int64 inputs (or int32, for graphs exported
 * so). Anything wrong is
 * BAD_USER_INPUT with what and why; nothing is stored then.
 */
export async function registerBert(ctx: TenantScope, registry: ModelRegistry, runtime: ModelRuntime, input: BertRegistration): Promise<ModelVersionRow> {
  const bad = (what: string, error: unknown) => new AlliedError('BAD_USER_INPUT', `${what}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  const vocab = input.vocab.split('\n').map((line) => line.replace(/\r$/, ''));
  while (vocab.length > 0 && vocab[vocab.length - 1] === '') vocab.pop();
  let labels: string[];
  try {
    labels = parseLabels(JSON.parse(input.labels));
  } catch (error) {
    throw bad('labels', error);
  }
  let tokenizer: WordPieceTokenizer;
  try {
    tokenizer = new WordPieceTokenizer(vocab, { lowercase: input.lowercase });
  } catch (error) {
    throw bad('vocab', error);
  }
  const maxTokens = input.maxTokens ?? 512;
  if (!Number.isInteger(maxTokens) || maxTokens < 3 || maxTokens > 4096) throw new AlliedError('BAD_USER_INPUT', 'max tokens must be 3..4096');
  let session: ModelSession;
  try {
    session = await runtime.load(input.onnx);
  } catch (error) {
    throw bad('the ONNX graph does not load', error);
  }
  let meta: BertMeta | null = null;
  const failures: string[] = [];
  try {
    for (const inputType of ['int64', 'int32'] as const) {
      const candidate: BertMeta = { format: BERT_FORMAT, vocab, labels, lowercase: input.lowercase, maxTokens, inputType };
      try {
        // The probes, and a window as long as --max-tokens: a graph that cannot read that many is refused now, not at each long text.
        await tagWithBert(session, candidate, tokenizer, [...PROBE_TEXTS, fullWindow(maxTokens - 2)]);
        meta = candidate;
        break;
      } catch (error) {
        failures.push(`${inputType}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      }
    }
  } finally {
    await session.release();
  }
  if (!meta) {
    throw new AlliedError('BAD_USER_INPUT', `the graph does not run as a token classifier (inputs input_ids, attention_mask, token_type_ids; output logits [batch, tokens, ${labels.length}]): ${failures.join('; ')}`);
  }
  const version = await registry.create(ctx, { kind: ModelKind.NER, device: runtime.provider, hyper: { registered: 'bert', lowercase: meta.lowercase, maxTokens } });
  // A registered model is the operator's choice: it is served from now on (its bytes were just checked by running them).
  return registry.complete(
    ctx,
    version.id,
    {
      artifact: { bytes: input.onnx, meta: meta as unknown as Record<string, unknown> },
      metrics: { registered: 'bert', labels: labels.length, vocabulary: vocab.length, inputType: meta.inputType, bytes: input.onnx.byteLength },
    },
    { activateBecause: 'Activated: registered by an operator with allied model register.' },
  );
}
