import type { ModelKind } from '../entities/enums';
import type { ModelLayer } from '../ml/layer';
import type { ModelVersionRow } from '../ml/registry/registry';
import type { RequestContext } from '../tenancy/context';

/** The brand's models: versions, training and activation, each in the caller's tenant transaction. */
export class ModelService {
  constructor(private readonly models: ModelLayer) {}

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

  /** Serves `id` from now on, on every instance (rolling back is activating an older version). */
  activate(ctx: RequestContext, id: string): Promise<ModelVersionRow> {
    return this.models.registry.activate(ctx, id);
  }

  /** Where models run on this instance: cpu, webgpu or cuda. */
  get device(): string {
    return this.models.provider;
  }
}
