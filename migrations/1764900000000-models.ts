import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The model registry (src/ml/registry): versions of each brand's models and
 * their artifacts, under the brand's row-level security.
 *
 * A version's row is light (what `models` lists, progress while training);
 * its ONNX bytes and id maps live in `model_artifacts`, read only when a
 * session is loaded. Two partial unique indexes hold the registry's rules:
 * one active version per brand and kind, and one training at a time.
 *
 * The owner connection sweeps versions left TRAINING by an instance that
 * stopped (no heartbeat) to FAILED, across brands, through its own policy.
 */
export class Models1764900000000 implements MigrationInterface {
  name = 'Models1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table model_versions (
        tenant_id uuid not null references brands(id),
        id uuid not null,
        kind text not null check (kind in ('RECOMMENDER','CTR','NER','SEGMENTATION')),
        status text not null default 'TRAINING' check (status in ('TRAINING','READY','FAILED')),
        active boolean not null default false,
        device text not null check (device in ('cpu','webgpu','cuda')),
        metrics jsonb,
        hyper jsonb not null default '{}',
        -- Why it was (or was not) made active when training ended, with both figures.
        decision jsonb,
        failure text check (char_length(failure) <= 4000),
        progress real not null default 0 check (progress between 0 and 1),
        epoch integer,
        loss double precision,
        message text check (char_length(message) <= 500),
        checksum text check (checksum ~ '^[0-9a-f]{64}$'),
        trained_by text not null check (char_length(trained_by) between 1 and 200),
        heartbeat_at timestamptz(3),
        created_at timestamptz(3) not null default now(),
        trained_at timestamptz(3),
        updated_at timestamptz(3) not null default now(),
        primary key (tenant_id, id),
        check (not active or status = 'READY'),
        check ((status = 'READY') = (checksum is not null and trained_at is not null)),
        check (status <> 'FAILED' or failure is not null)
      )`);
    await q.query(`create unique index model_versions_one_active on model_versions (tenant_id, kind) where active`);
    await q.query(`create unique index model_versions_one_training on model_versions (tenant_id, kind) where status = 'TRAINING'`);
    await q.query(`create index model_versions_list on model_versions (tenant_id, kind, created_at desc, id desc)`);
    await q.query(`create index model_versions_training on model_versions (heartbeat_at) where status = 'TRAINING'`);
    await q.query(`
      create table model_artifacts (
        tenant_id uuid not null,
        version_id uuid not null,
        -- The ONNX model.
        bytes bytea not null,
        -- What serving needs beside the graph: id maps, feature spec.
        meta jsonb not null,
        primary key (tenant_id, version_id),
        foreign key (tenant_id, version_id) references model_versions(tenant_id, id) on delete cascade
      )`);

    for (const table of ['model_versions', 'model_artifacts']) {
      await q.query(`alter table ${table} enable row level security`);
      await q.query(`alter table ${table} force row level security`);
      await q.query(`
        create policy ${table}_tenant on ${table} to allied_app
        using (tenant_id = (select allied_current_tenant()))
        with check (tenant_id = (select allied_current_tenant()))`);
    }
    await q.query(`
      do $$ begin
        execute format('create policy model_versions_sweeper on model_versions to %I using (true) with check (true)', current_user);
      end $$`);
    await q.query(`grant select, insert on model_versions, model_artifacts to allied_app`);
    await q.query(`
      grant update (status, active, metrics, decision, failure, progress, epoch, loss, message, checksum,
                    heartbeat_at, trained_at, updated_at) on model_versions to allied_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table model_artifacts`);
    await q.query(`drop table model_versions`);
  }
}
