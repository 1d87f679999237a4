import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Failed credentials per client address and window, shared by every instance
 * on one PostgreSQL: an attacker spreading guesses over instances gets no
 * more of them than against one. Written only on a failure (rare in normal
 * use) and only by the owner connection; the application role cannot reach
 * it. No tenant data: addresses and counts only.
 */
export class CredentialFailures1764500000000 implements MigrationInterface {
  name = 'CredentialFailures1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table credential_failures (
        address text not null,
        window_start timestamptz not null,
        failures integer not null,
        primary key (address, window_start)
      )`);
    await q.query(`revoke all on credential_failures from public`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table credential_failures`);
  }
}
