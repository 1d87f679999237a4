import { ModelKind } from '../entities/enums';
import type { ModelLayer } from '../ml/layer';
import type { ModelVersionRow } from '../ml/registry/registry';
import { loadLearnerAggregates, writeSegments } from '../ml/segments/data';
import { centroidInUnits, nearestSegment, type SegmentationModel } from '../ml/segments/segment';
import { segmentationOf } from '../ml/segments/trainer';
import { TtlCache } from '../ml/ttl-cache';
import type { RequestContext } from '../tenancy/context';

export interface SegmentView {
  label: string;
  /** Learners labelled with it now. */
  size: number;
  /** The centroid in the features' own units, by feature name. */
  centroid: Record<string, number>;
}

/**
 * The brand's learner segments: the active SEGMENTATION version's segments
 * with their centroids and current sizes, and relabelling every learner when
 * an older segmentation is activated again.
 */
export class SegmentService {
  /** Versions never change: each one's segmentation is read and checked once. */
  private readonly read = new TtlCache<SegmentationModel>(Infinity, 1000);

  constructor(private readonly models: ModelLayer) {}

  private model(ctx: RequestContext, version: ModelVersionRow): Promise<SegmentationModel> {
    return this.read.get(version.id, async () => segmentationOf((await this.models.registry.artifact(ctx, version)).meta));
  }

  /** The active segmentation, or null when the brand has none. */
  async segmentation(ctx: RequestContext): Promise<{ version: ModelVersionRow; segments: SegmentView[] } | null> {
    const version = await this.models.activeVersion(ctx, ModelKind.SEGMENTATION);
    if (!version) return null;
    const model = await this.model(ctx, version);
    const manager = await ctx.manager();
    const counts: { segment: string; n: string }[] = await manager.query(
      `select segment, count(*) as n from learners where tenant_id = $1 and segment = any($2::text[]) group by segment`,
      [ctx.brandId, model.labels],
    );
    const size = new Map(counts.map((c) => [c.segment, Number(c.n)]));
    return {
      version,
      segments: model.labels.map((label, s) => ({ label, size: size.get(label) ?? 0, centroid: centroidInUnits(model, s) })),
    };
  }

  /**
   * Writes every learner's segment under `version` (the nearest of its
   * centroids to the learner's features now), in the caller's transaction:
   * run when a segmentation other than the newest is activated again.
   */
  async relabel(ctx: RequestContext, version: ModelVersionRow): Promise<void> {
    const model = await this.model(ctx, version);
    const learners = await loadLearnerAggregates(ctx, new Date());
    await writeSegments(
      ctx,
      learners.map((l) => l.learnerId),
      learners.map((l) => model.labels[nearestSegment(model, l)]),
    );
  }
}
