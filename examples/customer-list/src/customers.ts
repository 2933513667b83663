/**
 * The customer list's data layer: its own table in the shared database Lockstep opened (one connection, one set of
 * credentials from the keychain). Every use tells Lockstep (noteDatabaseAccess) so a newer release is noticed at once;
 * where Lockstep forbids the database (an outdated workstation under "block", or a schema level this version does not
 * work on), database() refuses and so does this.
 *
 * The table's shape moves with the release (migrations/, signed into each version's manifest): level 1 has name and
 * city, level 2 adds an optional e-mail, level 3 renames name to company and adds a customer number. Lockstep lets
 * this version run only on the levels it works on; within those it uses what the table has.
 */
import type { Knex } from 'knex';
import type { Lockstep } from 'lockstep/electron';

export const TABLE = 'customer_list_customers';

export interface Customer {
  id: number;
  /** The company's name (column "name" up to level 2, "company" from level 3). */
  name: string;
  city: string;
  createdAt: string;
  /** From level 2; null where the level has no column or none was entered. */
  email: string | null;
  /** From level 3; null below it. */
  customerNumber: string | null;
}

/** What the table has at the database's schema level. */
interface Shape {
  nameColumn: 'name' | 'company';
  email: boolean;
  customerNumber: boolean;
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

  private async shape(knex: Knex): Promise<Shape> {
    const columns = await knex(TABLE).columnInfo();
    return { nameColumn: 'company' in columns ? 'company' : 'name', email: 'email' in columns, customerNumber: 'customer_number' in columns };
  }

  async list(): Promise<Customer[]> {
    const knex = this.db();
    const s = await this.shape(knex);
    const columns = ['id', `${s.nameColumn} as name`, 'city', 'created_at', ...(s.email ? ['email'] : []), ...(s.customerNumber ? ['customer_number'] : [])];
    const rows: Array<{ id: number; name: string; city: string; created_at: string; email?: string | null; customer_number?: string }> = await knex(TABLE).select(columns).orderBy(s.nameColumn);
    return rows.map((r) => ({ id: Number(r.id), name: r.name, city: r.city, createdAt: r.created_at, email: r.email ?? null, customerNumber: r.customer_number ?? null }));
  }

  async add(input: { name: unknown; city?: unknown; email?: unknown }): Promise<Customer> {
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    const city = typeof input.city === 'string' ? input.city.trim() : '';
    const email = typeof input.email === 'string' && input.email.trim() ? input.email.trim() : null;
    if (!name || name.length > 200) throw new Error('A customer needs a name of 1 to 200 characters.');
    if (city.length > 100) throw new Error('The city has at most 100 characters.');
    if (email !== null && (email.length > 200 || !email.includes('@'))) throw new Error('An e-mail address has an @ and at most 200 characters.');
    const knex = this.db();
    const s = await this.shape(knex);
    if (email !== null && !s.email) throw new Error('This database has no e-mail column yet; an administrator releases the version that adds it.');
    const createdAt = new Date().toISOString();
    const values: Record<string, string | null> = { [s.nameColumn]: name, city, created_at: createdAt, ...(s.email ? { email } : {}) };
    const [row] = await knex(TABLE).insert(values, ['id']);
    const id = typeof row === 'object' && row !== null ? Number((row as { id: number }).id) : Number(row);
    let customerNumber: string | null = null;
    if (s.customerNumber) {
      customerNumber = `K-${String(id).padStart(5, '0')}`; // the numbering migration 0003 gave the existing rows
      await knex(TABLE).where({ id }).update({ customer_number: customerNumber });
    }
    return { id, name, city, createdAt, email: s.email ? email : null, customerNumber };
  }

  async remove(id: unknown): Promise<void> {
    if (!Number.isInteger(id)) throw new Error('A customer id is a whole number.');
    await this.db()(TABLE).where({ id }).delete();
  }
}
