import { createHash, randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { ModelKind, ModelStatus } from '../../entities/enums';
import { AlliedError, conflict, notFound, PG, pgCode } from '../../errors';
import { isUuid, type TenantScope } from '../tenant';
import type { Provider } from '../runtime/runtime';

/** A model version as the registry lists it (no artifact). A class, so the API can tell it apart as a Node. */
export class ModelVersionRow {
  declare id: string;
  declare brandId: string;
  declare kind: ModelKind;
  declare status: ModelStatus;
  declare active: boolean;
  declare device: Provider;
  declare metrics: Record<string, unknown> | null;
  declare hyper: Record<string, unknown>;
  declare decision: ActivationDecision | null;
  declare failure: string | null;
  declare progress: number;
  declare epoch: number | null;
  declare loss: number | null;
  declare message: string | null;
  declare checksum: string | null;
  declare trainedBy: string;
  declare createdAt: Date;
  declare trainedAt: Date | null;
}

/** Why a freshly trained version was or was not made active, with both figures. */
export interface ActivationDecision {
  activated: boolean;
  metric: string;
  candidate: number | null;
  /** The version active when training ended, and its figure; null when there was none. */
  previous: { id: string; value: number | null } | null;
  reason: string;
}

/** The bytes a session is loaded from, and what serving needs beside the graph. */
export interface ModelArtifact {
  bytes: Uint8Array;
  meta: Record<string, unknown>;
}

/** A stored artifact no longer matches the checksum recorded when it was written. */
export class ModelIntegrityError extends Error {
  constructor(readonly versionId: string) {
    super(`Model version ${versionId}: its stored artifact does not match its checksum; it is not served.`);
  }
}

/** The held-out figure each kind is judged by (higher is better). */
export const PRIMARY_METRIC: Record<ModelKind, string> = {
  [ModelKind.RECOMMENDER]: 'ndcg10',
  [ModelKind.CTR]: 'auc',
  [ModelKind.NER]: 'f1',
  [ModelKind.SEGMENTATION]: 'silhouette',
};

const COLUMNS = `tenant_id, id, kind, status, active, device, metrics, hyper, decision, failure, progress, epoch, loss,
  message, checksum, trained_by, created_at, trained_at`;

/** sha256 over the ONNX bytes and the canonical JSON of the meta: both are what serving trusts. */
export function artifactChecksum(artifact: ModelArtifact): string {
  return createHash('sha256').update(artifact.bytes).update('\0').update(canonicalJson(artifact.meta)).digest('hex');
}

/** JSON with object keys sorted at every level: jsonb keeps its own key order, so the stored meta reads back reordered. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Model versions per brand and kind, in PostgreSQL under the brand's
 * row-level security: every method runs in the caller's tenant transaction,
 * so a brand never lists, loads or activates another brand's versions.
 * Changes signal the version after commit, so every instance serving the
 * brand drops what it cached.
 */
export class ModelRegistry {
  /** A new TRAINING version; CONFLICT while another of the brand's versions of the kind is training. */
  async create(ctx: TenantScope, spec: { kind: ModelKind; device: Provider; hyper: Record<string, unknown> }): Promise<ModelVersionRow> {
    const manager = await ctx.manager();
    const id = randomUUID();
    try {
      const [row] = await manager.query(
        `insert into model_versions (tenant_id, id, kind, device, hyper, trained_by, heartbeat_at)
         values ($1, $2, $3, $4, $5, $6, now()) returning ${COLUMNS}`,
        [ctx.brandId, id, spec.kind, spec.device, spec.hyper, ctx.caller.subject.slice(0, 200)],
      );
      this.signal(ctx, id);
      return fromRow(row);
    } catch (error) {
      if (pgCode(error) === PG.uniqueViolation) {
        throw conflict(`A ${spec.kind} model of your brand is already training; wait for it to finish (subscribe to modelTraining).`);
      }
      throw error;
    }
  }

  /** The brand's versions, newest first, optionally of one kind. */
  async list(ctx: TenantScope, kind?: ModelKind | null): Promise<ModelVersionRow[]> {
    const params: unknown[] = [ctx.brandId];
    if (kind) params.push(kind);
    const rows = await (await ctx.manager()).query(
      `select ${COLUMNS} from model_versions where tenant_id = $1 ${kind ? 'and kind = $2' : ''}
       order by created_at desc, id desc limit 200`,
      params,
    );
    return rows.map(fromRow);
  }

  async get(ctx: TenantScope, id: string): Promise<ModelVersionRow | null> {
    if (!isUuid(id)) return null;
    const [row] = await (await ctx.manager()).query(`select ${COLUMNS} from model_versions where tenant_id = $1 and id = $2`, [ctx.brandId, id]);
    return row ? fromRow(row) : null;
  }

  /** The brand's active version of a kind, if any. */
  async active(ctx: TenantScope, kind: ModelKind): Promise<ModelVersionRow | null> {
    const [row] = await (await ctx.manager()).query(
      `select ${COLUMNS} from model_versions where tenant_id = $1 and kind = $2 and active`,
      [ctx.brandId, kind],
    );
    return row ? fromRow(row) : null;
  }

  /** Training progress; also the heartbeat that tells other instances the training is alive. */
  async progress(ctx: TenantScope, id: string, p: { progress: number; epoch?: number | null; loss?: number | null; message?: string | null }): Promise<void> {
    await (await ctx.manager()).query(
      `update model_versions set progress = $3, epoch = $4, loss = $5, message = $6, heartbeat_at = now(), updated_at = now()
       where tenant_id = $1 and id = $2 and status = 'TRAINING'`,
      [ctx.brandId, id, clamp01(p.progress), p.epoch ?? null, finiteOrNull(p.loss), p.message?.slice(0, 500) ?? null],
    );
    this.signal(ctx, id);
  }

  /** A heartbeat without news (a training waiting for a worker, or a long epoch). */
  async heartbeat(ctx: TenantScope, id: string): Promise<void> {
    await (await ctx.manager()).query(
      `update model_versions set heartbeat_at = now() where tenant_id = $1 and id = $2 and status = 'TRAINING'`,
      [ctx.brandId, id],
    );
  }

  async fail(ctx: TenantScope, id: string, reason: string): Promise<void> {
    await (await ctx.manager()).query(
      `update model_versions set status = 'FAILED', failure = $3, heartbeat_at = null, updated_at = now()
       where tenant_id = $1 and id = $2 and status = 'TRAINING'`,
      [ctx.brandId, id, reason.slice(0, 4000) || 'failed'],
    );
    this.signal(ctx, id);
  }

  /**
   * Stores a trained version's artifact and held-out metrics, marks it
   * READY, and activates it when its primary metric is not worse than the
   * active version's (or there is none), or when `activateBecause` says why
   * it must be (a model an operator registered). The decision is recorded
   * either way. Returns the version as stored.
   */
  async complete(
    ctx: TenantScope,
    id: string,
    result: { artifact: ModelArtifact; metrics: Record<string, unknown> },
    options: { activateBecause?: string } = {},
  ): Promise<ModelVersionRow> {
    const manager = await ctx.manager();
    const [version] = await manager.query(
      `select kind from model_versions where tenant_id = $1 and id = $2 and status = 'TRAINING' for update`,
      [ctx.brandId, id],
    );
    if (!version) throw new Error(`model version ${id} is no longer TRAINING; its result is discarded`);
    const kind = version.kind as ModelKind;
    await manager.query(`insert into model_artifacts (tenant_id, version_id, bytes, meta) values ($1, $2, $3, $4)`, [
      ctx.brandId,
      id,
      Buffer.from(result.artifact.bytes.buffer, result.artifact.bytes.byteOffset, result.artifact.bytes.byteLength),
      result.artifact.meta,
    ]);
    const current = await this.active(ctx, kind);
    const decision = options.activateBecause
      ? { ...decide(kind, result.metrics, current), activated: true, reason: options.activateBecause }
      : decide(kind, result.metrics, current);
    if (decision.activated && current) {
      await manager.query(`update model_versions set active = false, updated_at = now() where tenant_id = $1 and id = $2`, [ctx.brandId, current.id]);
    }
    const [row] = unwrap<Record<string, unknown>>(await manager.query(
      `update model_versions set status = 'READY', active = $3, metrics = $4, decision = $5, checksum = $6, progress = 1,
         message = $7, trained_at = now(), heartbeat_at = null, updated_at = now()
       where tenant_id = $1 and id = $2 returning ${COLUMNS}`,
      [ctx.brandId, id, decision.activated, result.metrics, decision, artifactChecksum(result.artifact), decision.reason.slice(0, 500)],
    ));
    this.signal(ctx, id);
    return fromRow(row);
  }

  /**
   * Makes a READY version the active one of its kind (rolling back is
   * activating an older version). Its artifact is checked first: a version
   * whose bytes no longer match their checksum is never activated.
   */
  async activate(ctx: TenantScope, id: string): Promise<ModelVersionRow> {
    const version = await this.get(ctx, id);
    if (!version) throw notFound('Model version');
    if (version.status !== ModelStatus.READY) {
      throw new AlliedError('BAD_USER_INPUT', `Only a READY model version can be activated; this one is ${version.status}.`);
    }
    if (version.active) return version;
    try {
      await this.artifact(ctx, version);
    } catch (error) {
      if (error instanceof ModelIntegrityError) throw new AlliedError('BAD_USER_INPUT', error.message);
      throw error;
    }
    const manager = await ctx.manager();
    await manager.query(
      `update model_versions set active = false, updated_at = now() where tenant_id = $1 and kind = $2 and active`,
      [ctx.brandId, version.kind],
    );
    const [row] = unwrap<Record<string, unknown>>(await manager.query(
      `update model_versions set active = true, updated_at = now() where tenant_id = $1 and id = $2 returning ${COLUMNS}`,
      [ctx.brandId, id],
    ));
    this.signal(ctx, id);
    return fromRow(row);
  }

  /** The version's artifact, checked against its checksum (ModelIntegrityError when it does not match). */
  async artifact(ctx: TenantScope, version: Pick<ModelVersionRow, 'id' | 'checksum'>): Promise<ModelArtifact> {
    const [row] = await (await ctx.manager()).query(
      `select bytes, meta from model_artifacts where tenant_id = $1 and version_id = $2`,
      [ctx.brandId, version.id],
    );
    if (!row || !version.checksum) throw new ModelIntegrityError(version.id);
    const artifact: ModelArtifact = { bytes: toBytes(row.bytes), meta: row.meta };
    if (artifactChecksum(artifact) !== version.checksum) throw new ModelIntegrityError(version.id);
    return artifact;
  }

  private signal(ctx: TenantScope, versionId: string): void {
    ctx.changed([{ kind: 'model', brandId: ctx.brandId, versionId }]);
  }
}

/**
 * Marks FAILED the versions left TRAINING by an instance that stopped: those
 * whose training job is no longer pending or running and whose heartbeat is
 * older than `staleMs` (0: every such version, for a database only this
 * process can open). Runs on the owner connection, across brands. Returns
 * the versions failed, for the caller to signal.
 */
export async function failAbandonedTrainings(
  dataSource: DataSource | EntityManager,
  staleMs: number,
  jobKind: string,
): Promise<{ brandId: string; versionId: string }[]> {
  const rows: { tenant_id: string; id: string }[] = unwrap(await dataSource.query(
    `update model_versions v set status = 'FAILED', heartbeat_at = null, updated_at = now(),
       failure = 'Training stopped: the instance running it stopped before it finished (no heartbeat since '
                 || to_char(coalesce(v.heartbeat_at, v.created_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '). Train again.'
     where v.status = 'TRAINING'
       and coalesce(v.heartbeat_at, v.created_at) <= now() - $1 * interval '1 millisecond'
       and not exists (
         select 1 from jobs j
         where j.tenant_id = v.tenant_id and j.kind = $2 and j.payload->>'versionId' = v.id::text
           and j.state in ('PENDING', 'RUNNING'))
     returning v.tenant_id, v.id`,
    [staleMs, jobKind],
  ));
  return rows.map((r) => ({ brandId: r.tenant_id, versionId: r.id }));
}

/** Activation rule: a fresh version replaces the active one only if its held-out metric is not worse. */
function decide(kind: ModelKind, metrics: Record<string, unknown>, current: ModelVersionRow | null): ActivationDecision {
  const metric = PRIMARY_METRIC[kind];
  const candidate = numberOrNull(metrics[metric]);
  if (!current) {
    return { activated: true, metric, candidate, previous: null, reason: 'Activated: the brand had no active model of this kind.' };
  }
  const previousValue = numberOrNull(current.metrics?.[metric]);
  const previous = { id: current.id, value: previousValue };
  if (kind === ModelKind.SEGMENTATION) {
    return {
      activated: true,
      metric,
      candidate,
      previous,
      reason: 'Activated: a segmentation describes the learners as they are now, so the newest replaces the last (silhouettes of different populations do not compare).',
    };
  }
  if (candidate === null) {
    return { activated: false, metric, candidate, previous, reason: `Not activated: too little held-out data to measure ${metric}; the active version stays.` };
  }
  if (previousValue === null || candidate >= previousValue) {
    return {
      activated: true,
      metric,
      candidate,
      previous,
      reason: `Activated: held-out ${metric} ${fmt(candidate)} is not worse than the active version's ${previousValue === null ? 'unmeasured figure' : fmt(previousValue)}.`,
    };
  }
  return {
    activated: false,
    metric,
    candidate,
    previous,
    reason: `Not activated: held-out ${metric} ${fmt(candidate)} is worse than the active version's ${fmt(previousValue)}; activate it yourself to override.`,
  };
}

const fmt = (n: number) => n.toFixed(4);
const numberOrNull = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const finiteOrNull = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const clamp01 = (v: number) => (Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0);

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string' && value.startsWith('\\x')) return Buffer.from(value.slice(2), 'hex');
  throw new TypeError('model artifact bytes arrived in an unexpected form');
}

/** TypeORM answers UPDATE ... RETURNING with [rows, count]; SELECT and INSERT with the rows. */
function unwrap<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}

function fromRow(r: Record<string, unknown>): ModelVersionRow {
  return Object.assign(new ModelVersionRow(), {
    id: r.id as string,
    brandId: r.tenant_id as string,
    kind: r.kind as ModelKind,
    status: r.status as ModelStatus,
    active: r.active as boolean,
    device: r.device as Provider,
    metrics: (r.metrics as Record<string, unknown> | null) ?? null,
    hyper: (r.hyper as Record<string, unknown>) ?? {},
    decision: (r.decision as ActivationDecision | null) ?? null,
    failure: (r.failure as string | null) ?? null,
    progress: Number(r.progress),
    epoch: r.epoch == null ? null : Number(r.epoch),
    loss: r.loss == null ? null : Number(r.loss),
    message: (r.message as string | null) ?? null,
    checksum: (r.checksum as string | null) ?? null,
    trainedBy: r.trained_by as string,
    createdAt: r.created_at as Date,
    trainedAt: (r.trained_at as Date | null) ?? null,
  });
}
