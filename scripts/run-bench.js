#!/usr/bin/env node
// `npm run bench [name…]`: builds nothing itself (run `npm run build` first) and runs the benchmarks in build/bench one
// after another, each in its own process so that one's memory does not count against the next. Figures go to stdout.
// The first argument starting with `-` and all after it go to each benchmark run: `npm run bench deltas -- --small`.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const dir = path.resolve(__dirname, '..', 'build', 'bench');
const firstOption = process.argv.findIndex((a, i) => i >= 2 && a.startsWith('-'));
const wanted = process.argv.slice(2, firstOption < 0 ? undefined : firstOption);
const passed = firstOption < 0 ? [] : process.argv.slice(firstOption);
const all = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.js') && f !== 'stats.js').map((f) => f.replace(/\.js$/, '')) : [];
const run = wanted.length ? all.filter((b) => wanted.includes(b)) : all;
if (run.length === 0) {
  console.error(`No benchmarks to run (found: ${all.join(', ') || 'none — run npm run build first'}).`);
  process.exit(1);
}
let failed = 0;
for (const name of run) {
  console.log(`\n===== bench/${name}`);
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(dir, `${name}.js`), ...passed], { stdio: 'inherit', env: process.env });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
