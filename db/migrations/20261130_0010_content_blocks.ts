/**
 * Packages as content-defined blocks shared between releases: one row per distinct block, keyed by the SHA-256 of its
 * bytes (a block two releases share is stored once), and per release the ordered list of its blocks. The list refers
 * to the blocks with a foreign key, so the database itself refuses to drop a block a release lists — that is what
 * makes pruning an old release safe against a publish that is about to reuse one of its blocks (packageBlocks.ts).
 */
import type { Knex } from 'knex';

export const name = '20261130_0010_content_blocks';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('lockstep_blocks', (t) => {
    t.string('sha256', 64).notNullable().primary(); // lower-case hex of the bytes' SHA-256
    t.integer('size').notNullable();
    t.binary('bytes').notNullable(); // varbinary(max) | bytea | blob
  });
  await knex.schema.createTable('lockstep_release_blocks', (t) => {
    t.integer('release_id').unsigned().notNullable().references('id').inTable('lockstep_releases');
    t.integer('seq').notNullable();
    t.string('sha256', 64).notNullable().references('sha256').inTable('lockstep_blocks');
    t.bigInteger('byte_offset').notNullable();
    t.integer('size').notNullable();
    t.primary(['release_id', 'seq']);
    // Pruning asks "does any release still list this block?" for every block it might free.
    t.index(['sha256'], 'lockstep_release_blocks_sha256');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('lockstep_release_blocks');
  await knex.schema.dropTable('lockstep_blocks');
}
