#!/usr/bin/env node
// Builds the windows for the browser: renderer/**/*.mts (ES modules, DOM types; outside the Node program's include)
// and the shared contract/ types they import → build/web, plus the HTML and CSS beside them. Electron serves
// build/web through its lockstep:// protocol; the browser tests serve the same folder from a loopback HTTP server.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'build', 'web');
fs.rmSync(out, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'renderer', 'tsconfig.json')], { stdio: 'inherit', cwd: root });
for (const name of fs.readdirSync(path.join(root, 'renderer'))) {
  if (/\.(html|css)$/.test(name)) fs.copyFileSync(path.join(root, 'renderer', name), path.join(out, 'renderer', name));
}
console.log(`renderer built into ${path.relative(root, out)}`);
