import type { ProgressCallback } from '../train/progress';
import { generateCorpus } from './corpus';
import { writeDefaultTagger, type DefaultTagger } from './default-model';
import { trainTagger } from './train-tagger';

/** The corpus the shipped tagger is trained on: generated from what is in the repository, with a fixed seed. */
export const SHIPPED_CORPUS = { sentences: 20_000, seed: 1 };

/**
 * Trains the shipped demand tagger from scratch and writes it to
 * models/ner/ (what `npm run train:ner` runs): the same corpus, options and
 * seed give the same model.
 */
export async function trainShippedTagger(onProgress?: ProgressCallback): Promise<DefaultTagger> {
  const corpus = generateCorpus(SHIPPED_CORPUS);
  onProgress?.({ fraction: 0, epoch: 0, loss: Number.NaN, message: `generated ${corpus.length} sentences` });
  const result = await trainTagger(corpus, {}, onProgress);
  return writeDefaultTagger(result.weights, { corpus: SHIPPED_CORPUS, hyper: result.hyper as unknown as Record<string, unknown>, losses: result.losses });
}
