import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../package-root';
import type { ServedVersion } from '../recommend/serving';
import type { TaggerWeights } from './tagger';
import { taggerGraph } from './tagger';
import { unitCodes } from './vocab';
import { TAGGER_FORMAT, type TaggerMeta } from './serving';

/** Where the shipped demand tagger lives in the package: its graph and what describes it. */
export const DEFAULT_MODEL_DIR = path.join(packageRoot(), 'models', 'ner');
const GRAPH = 'default.onnx';
const META = 'default.json';

/** What the shipped tagger's description holds beyond its vocabulary: how it was made, for `npm run train:ner` to repeat. */
export interface DefaultTaggerMeta extends TaggerMeta {
  sha256: string;
  corpus: { sentences: number; seed: number };
  hyper: Record<string, unknown>;
  losses: number[];
}

/** The shipped tagger as a version to serve, with the name `extractDemands` reports. */
export interface DefaultTagger extends ServedVersion {
  name: string;
}

/** Reads the shipped tagger (once per process), checking its graph against the recorded digest. */
export function readDefaultTagger(dir = DEFAULT_MODEL_DIR): DefaultTagger {
  const graphFile = path.join(dir, GRAPH);
  const metaFile = path.join(dir, META);
  if (!fs.existsSync(graphFile) || !fs.existsSync(metaFile)) {
    throw new Error(`the shipped demand model is missing from ${dir}: run npm run train:ner`);
  }
  const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as DefaultTaggerMeta;
  const bytes = new Uint8Array(fs.readFileSync(graphFile));
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (meta.format !== TAGGER_FORMAT || digest !== meta.sha256) throw new Error(`the shipped demand model in ${dir} does not match its description (sha256 ${digest})`);
  const id = `allied-default-ner-${digest.slice(0, 12)}`;
  return { id, name: id, load: async () => ({ bytes, meta: { format: meta.format, codes: meta.codes } }) };
}

/** Writes a trained tagger as the shipped one. */
export function writeDefaultTagger(weights: TaggerWeights, made: Omit<DefaultTaggerMeta, 'format' | 'codes' | 'sha256'>, dir = DEFAULT_MODEL_DIR): DefaultTagger {
  fs.mkdirSync(dir, { recursive: true });
  const bytes = taggerGraph(weights);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const meta: DefaultTaggerMeta = { format: TAGGER_FORMAT, codes: unitCodes(weights.units), sha256, ...made };
  fs.writeFileSync(path.join(dir, GRAPH), bytes);
  fs.writeFileSync(path.join(dir, META), `${JSON.stringify(meta)}\n`);
  return readDefaultTagger(dir);
}
