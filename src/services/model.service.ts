import { ModelKind } from '../entities/enums';
import type { ModelLayer } from '../ml/layer';
import { registerBert, type BertRegistration } from '../ml/ner/register';
import type { ModelVersionRow } from '../ml/registry/registry';
import type { RequestContext } from '../tenancy/context';
import type { SegmentService } from './segment.service';

/** The brand's models: versions, training and activation, each in the caller's tenant transaction. */
export class ModelService {
  constructor(
    private readonly models: ModelLayer,
    private readonly segments: SegmentService,
  ) {}

  list(ctx: RequestContext, kind?: ModelKind | null): Promise<ModelVersionRow[]> {
    return this.models.registry.list(ctx, kind);
  }

  get(ctx: RequestContext, id: string): Promise<ModelVersionRow | null> {
    return this.models.registry.get(ctx, id);
  }

  /** A TRAINING version, returned at once; the training runs in a worker once this transaction commits. */
  train(ctx: RequestContext, kind: ModelKind): Promise<ModelVersionRow> {
    return this.models.training.start(ctx, kind);
  }

  /**
   * Serves `id` from now on, on every instance (rolling back is activating
   * an older version). Activating a segmentation again relabels every
   * learner with it, in the same transaction.
   */
  async activate(ctx: RequestContext, id: string): Promise<ModelVersionRow> {
    const before = await this.models.registry.get(ctx, id);
    const version = await this.models.registry.activate(ctx, id);
    if (version.kind === ModelKind.SEGMENTATION && before && !before.active) await this.segments.relabel(ctx, version);
    return version;
  }

  /** Stores a brand's own BERT-style NER graph as its active NER version (src/ml/ner/register.ts). */
  registerBert(ctx: RequestContext, input: BertRegistration): Promise<ModelVersionRow> {
    return registerBert(ctx, this.models.registry, this.models.runtime, input);
  }

  /** Where models run on this instance: cpu, webgpu or cuda. */
  get device(): string {
    return this.models.provider;
  }
}
