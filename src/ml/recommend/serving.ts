import type { ModelArtifact } from '../registry/registry';
import type { LoadedModel, SessionCache } from '../runtime/cache';
import type { ModelRuntime } from '../runtime/runtime';
import { MicroBatcher, type MicroBatcherOptions } from './batcher';

/** What a recommender's artifact carries beside its graph. */
export interface RecommenderMeta {
  /** Learner ids by model row. */
  learners: string[];
  /** Course ids by model item. */
  items: string[];
  /** How many items the graph returns per learner (its TopK). */
  top: number;
  factors: number;
  /** The item factors (items × factors, float32, base64): which course a recommendation resembles. */
  itemFactors: string;
}

/** A recommender ready to serve: its id maps as lookups. */
export interface RecommenderIndex {
  learnerRow: Map<string, number>;
  items: string[];
  itemRow: Map<string, number>;
  top: number;
  factors: number;
  itemFactors: Float32Array;
}

/** One learner to rank for: the courses never to return (bought ones). */
export interface RankRequest {
  learnerId: string;
  exclude: ReadonlySet<string>;
}

export interface Ranked {
  courseId: string;
  score: number;
}

/** One run of a model, as observers (logs, tests, benchmarks) see it. */
export interface ModelCall {
  versionId: string;
  kind: string;
  batch: number;
  ms: number;
}

/** A version to serve: its id and how to read its artifact (in the caller's tenant transaction). */
export interface ServedVersion {
  id: string;
  load: () => Promise<ModelArtifact>;
}

const EXCLUDED = -1e9;

/**
 * What an ONNX Runtime session costs beyond its weights: measured as resident
 * memory per model with 1,000 small models loaded (bench/RESULTS.md, model
 * layer: 264 KiB of RSS a model against 80 KiB of artifact and maps).
 */
export const SESSION_OVERHEAD_BYTES = 192 * 1024;

/**
 * Serves recommenders: a version's session is loaded once into the shared
 * cache; concurrent requests for the same version are gathered by a
 * micro-batcher into one model call (a batch of learner rows and their
 * masks), so a page of learners, or many requests at once, cost one call.
 */
export class RecommenderServing {
  private readonly batchers = new WeakMap<LoadedModel<RecommenderIndex>, MicroBatcher<Row, Ranked[]>>();

  constructor(
    private readonly runtime: ModelRuntime,
    private readonly cache: SessionCache<RecommenderIndex | unknown>,
    private readonly batching: MicroBatcherOptions,
    private readonly observe: (call: ModelCall) => void,
  ) {}

  /**
   * The model's ranking for each request, best first, without its excluded
   * courses; null for a learner the version has never seen (cold start).
   */
  async rank(version: ServedVersion, requests: RankRequest[]): Promise<(Ranked[] | null)[]> {
    return this.withIndex(version, async (model, index) => {
      const rows: (Row | null)[] = requests.map((r) => {
        const row = index.learnerRow.get(r.learnerId);
        if (row === undefined) return null;
        const exclude: number[] = [];
        for (const id of r.exclude) {
          const item = index.itemRow.get(id);
          if (item !== undefined) exclude.push(item);
        }
        return { learner: row, exclude };
      });
      const known = rows.filter((r): r is Row => r !== null);
      const ranked = await this.batcher(version.id, model).submitAll(known);
      let next = 0;
      return rows.map((r) => (r === null ? null : ranked[next++]));
    });
  }

  /**
   * For each pair, the course of `history` most like `courseId` by the
   * model's item factors (cosine), for an explanation; null where the model
   * knows neither. One look-up of the loaded model for all pairs.
   */
  async mostSimilar(
    version: ServedVersion,
    pairs: readonly { courseId: string; history: readonly string[] }[],
  ): Promise<({ courseId: string; similarity: number } | null)[]> {
    return this.withIndex(version, async (_model, index) =>
      pairs.map(({ courseId, history }) => {
        const target = index.itemRow.get(courseId);
        if (target === undefined) return null;
        let best: { courseId: string; similarity: number } | null = null;
        for (const id of history) {
          const row = index.itemRow.get(id);
          if (row === undefined || row === target) continue;
          const similarity = cosine(index.itemFactors, index.factors, target, row);
          if (!best || similarity > best.similarity) best = { courseId: id, similarity };
        }
        return best;
      }),
    );
  }

  private withIndex<T>(version: ServedVersion, work: (model: LoadedModel<RecommenderIndex>, index: RecommenderIndex) => Promise<T>): Promise<T> {
    return this.cache.use(version.id, () => this.load(version), (model) => work(model as LoadedModel<RecommenderIndex>, model.meta as RecommenderIndex));
  }

  private async load(version: ServedVersion): Promise<LoadedModel<RecommenderIndex>> {
    const artifact = await version.load();
    const meta = artifact.meta as unknown as RecommenderMeta;
    const session = await this.runtime.load(artifact.bytes);
    const raw = Buffer.from(meta.itemFactors, 'base64');
    const itemFactors = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    const index: RecommenderIndex = {
      learnerRow: new Map(meta.learners.map((id, row) => [id, row])),
      items: meta.items,
      itemRow: new Map(meta.items.map((id, row) => [id, row])),
      top: meta.top,
      factors: meta.factors,
      itemFactors,
    };
    // Counted as what it holds: ONNX Runtime's session (its own overhead plus
    // the weights), the id maps (about 100 bytes an id) and the item factors.
    return {
      session,
      meta: index,
      bytes: SESSION_OVERHEAD_BYTES + artifact.bytes.byteLength + (meta.learners.length + meta.items.length) * 100 + raw.byteLength,
    };
  }

  private batcher(versionId: string, model: LoadedModel<RecommenderIndex>): MicroBatcher<Row, Ranked[]> {
    let batcher = this.batchers.get(model);
    if (!batcher) {
      batcher = new MicroBatcher((rows) => this.run(versionId, model, rows), this.batching);
      this.batchers.set(model, batcher);
    }
    return batcher;
  }

  /** One model call for a batch of learners. */
  private async run(versionId: string, model: LoadedModel<RecommenderIndex>, rows: Row[]): Promise<Ranked[][]> {
    const { items, top } = model.meta;
    const n = rows.length;
    const learner = new Int32Array(n);
    const mask = new Float32Array(n * items.length);
    rows.forEach((r, i) => {
      learner[i] = r.learner;
      for (const item of r.exclude) mask[i * items.length + item] = EXCLUDED;
    });
    const started = performance.now();
    const out = await model.session.run({ learner: { data: learner, dims: [n] }, mask: { data: mask, dims: [n, items.length] } });
    this.observe({ versionId, kind: 'RECOMMENDER', batch: n, ms: performance.now() - started });
    const scores = out.scores.data as Float32Array;
    const ranked = out.items.data as Int32Array;
    const k = out.scores.dims[1] ?? top;
    return rows.map((_r, i) => {
      const list: Ranked[] = [];
      for (let j = 0; j < k; j++) {
        const score = scores[i * k + j];
        if (score <= EXCLUDED / 2) break; // only excluded items are left
        list.push({ courseId: items[ranked[i * k + j]], score });
      }
      return list;
    });
  }
}

interface Row {
  learner: number;
  exclude: number[];
}

function cosine(factors: Float32Array, f: number, a: number, b: number): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < f; i++) {
    const x = factors[a * f + i];
    const y = factors[b * f + i];
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}
