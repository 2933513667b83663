// Level 3 (Customer List 2.0): "name" becomes "company", and every customer gets a customer number (NOT NULL),
// backfilled from its id. A version that still writes "name" cannot work here: 2.0 works on level 3 only.
exports.up = async (knex) => {
  await knex.schema.alterTable('customer_list_customers', (t) => {
    t.renameColumn('name', 'company');
  });
  await knex.schema.alterTable('customer_list_customers', (t) => {
    t.string('customer_number', 20).notNullable().defaultTo('');
  });
  const rows = await knex('customer_list_customers').select('id');
  for (const { id } of rows) {
    await knex('customer_list_customers').where({ id }).update({ customer_number: `K-${String(id).padStart(5, '0')}` });
  }
};
