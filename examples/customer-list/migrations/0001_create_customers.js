// Level 1 (Customer List 1.0): the customers table. A database where 1.0 already created it on first use keeps it.
exports.up = async (knex) => {
  if (await knex.schema.hasTable('customer_list_customers')) return;
  await knex.schema.createTable('customer_list_customers', (t) => {
    t.increments('id');
    t.string('name', 200).notNullable();
    t.string('city', 100).notNullable().defaultTo('');
    t.string('created_at', 30).notNullable();
  });
};
