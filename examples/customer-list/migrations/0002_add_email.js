// Level 2 (Customer List 1.1): an optional e-mail address. Versions on level 1 ignore the column, so 1.1 works on both.
exports.up = async (knex) => {
  await knex.schema.alterTable('customer_list_customers', (t) => {
    t.string('email', 200).nullable();
  });
};
