/**
 * The customer list's data layer: its own table in the shared database Lockstep opened (one connection, one set of
 * credentials from the keychain). Every use tells Lockstep (noteDatabaseAccess) so a newer release is noticed at once;
 * where Lockstep forbids the database (an outdated workstation under "block"), database() refuses and so does this.
 */
import type { Knex } from 'knex';
import type { Lockstep } from 'lockstep/electron';

export const TABLE = 'customer_list_customers';

export interface Customer {
  id: number;
  name: string;
  city: string;
  createdAt: string;
}

export type DatabaseAccess = Pick<Lockstep, 'database' | 'noteDatabaseAccess'>;

export class CustomerStore {
  constructor(private readonly lockstep: DatabaseAccess) {}

  private db(): Knex {
    const knex = this.lockstep.database(); // throws where the workstation may not use the database
    void this.lockstep.noteDatabaseAccess();
    return knex;
  }

  /** Creates the table on first use (the example owns it; Lockstep's tables are Lockstep's). */
  async ensureTable(): Promise<void> {
    const knex = this.db();
    if (await knex.schema.hasTable(TABLE)) return;
    await knex.schema.createTable(TABLE, (t) => {
      t.increments('id');
      t.string('name', 200).notNullable();
      t.string('city', 100).notNullable().defaultTo('');
      t.string('created_at', 30).notNullable();
    });
  }

  async list(): Promise<Customer[]> {
    const rows: Array<{ id: number; name: string; city: string; created_at: string }> = await this.db()(TABLE).select('id', 'name', 'city', 'created_at').orderBy('name');
    return rows.map((r) => ({ id: Number(r.id), name: r.name, city: r.city, createdAt: r.created_at }));
  }

  async add(input: { name: unknown; city?: unknown }): Promise<Customer> {
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    const city = typeof input.city === 'string' ? input.city.trim() : '';
    if (!name || name.length > 200) throw new Error('A customer needs a name of 1 to 200 characters.');
    if (city.length > 100) throw new Error('The city has at most 100 characters.');
    const createdAt = new Date().toISOString();
    const [row] = await this.db()(TABLE).insert({ name, city, created_at: createdAt }, ['id']);
    const id = typeof row === 'object' && row !== null ? Number((row as { id: number }).id) : Number(row);
    return { id, name, city, createdAt };
  }

  async remove(id: unknown): Promise<void> {
    if (!Number.isInteger(id)) throw new Error('A customer id is a whole number.');
    await this.db()(TABLE).where({ id }).delete();
  }
}
