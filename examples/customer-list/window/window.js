/* global document, window, FormData */
// The main window: lists the customers and adds or removes one, through the preload's three calls.
const rows = document.getElementById('rows');
const error = document.getElementById('error');

async function refresh() {
  rows.replaceChildren();
  for (const c of await window.customers.list()) {
    const tr = document.createElement('tr');
    for (const text of [c.name, c.city]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    const remove = document.createElement('button');
    remove.textContent = 'Remove';
    remove.addEventListener('click', () => window.customers.remove(c.id).then(refresh, show));
    const td = document.createElement('td');
    td.append(remove);
    tr.append(td);
    rows.append(tr);
  }
}

function show(err) {
  error.textContent = String(err && err.message ? err.message : err);
}

document.getElementById('add').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  window.customers.add({ name: String(form.get('name')), city: String(form.get('city')) }).then(() => {
    event.target.reset();
    error.textContent = '';
    return refresh();
  }, show);
});

refresh().catch(show);
