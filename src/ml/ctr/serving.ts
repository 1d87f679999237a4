import type { ModelCall, ServedVersion } from '../recommend/serving';
import { SESSION_OVERHEAD_BYTES } from '../recommend/serving';
import type { LoadedModel, SessionCache } from '../runtime/cache';
import type { ModelRuntime } from '../runtime/runtime';
import { encodeImpressionInto, type CtrFeatureSpec, type CtrImpression } from './features';

/** What a CTR artifact carries beside its graph: the encoding it was trained with. */
export interface CtrMeta {
  spec: CtrFeatureSpec;
}

/**
 * Serves CTR models: a version's session is loaded once into the shared
 * cache with the feature spec it was trained with; a batch of impressions
 * is encoded under that spec and scored in one model call.
 */
export class CtrServing {
  constructor(
    private readonly runtime: ModelRuntime,
    private readonly cache: SessionCache<CtrMeta | unknown>,
    private readonly observe: (call: ModelCall) => void,
  ) {}

  /** The click probability of each impression, in order, from one model call. */
  async predict(version: ServedVersion, impressions: readonly CtrImpression[]): Promise<Float32Array> {
    if (impressions.length === 0) return new Float32Array(0);
    return this.cache.use(
      version.id,
      () => this.load(version),
      async (loaded) => {
        const model = loaded as LoadedModel<CtrMeta>;
        const { spec } = model.meta;
        const indices = new Int32Array(impressions.length * spec.F);
        impressions.forEach((imp, i) => encodeImpressionInto(imp, spec, indices, i * spec.F));
        const started = performance.now();
        const out = await model.session.run({ indices: { data: indices, dims: [impressions.length, spec.F] } });
        this.observe({ versionId: version.id, kind: 'CTR', batch: impressions.length, ms: performance.now() - started });
        return out.probability.data as Float32Array;
      },
    );
  }

  private async load(version: ServedVersion): Promise<LoadedModel<CtrMeta>> {
    const artifact = await version.load();
    const meta = artifact.meta as unknown as CtrMeta;
    const session = await this.runtime.load(artifact.bytes);
    return { session, meta: { spec: meta.spec }, bytes: SESSION_OVERHEAD_BYTES + artifact.bytes.byteLength };
  }
}
