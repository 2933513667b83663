#!/usr/bin/env node
// `npm start`: the Electron app on a desktop where the Electron binary is installed; elsewhere (no display, or the
// binary could not be downloaded) the same loop runs headless through the CLI's demo, so the command always works.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');

const root = path.resolve(__dirname, '..');
let electronBinary = null;
try {
  electronBinary = require('electron'); // the path of the binary, when its download succeeded
} catch {
  electronBinary = null;
}
const hasDisplay = process.platform === 'win32' || process.platform === 'darwin' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
const mainJs = path.join(root, 'build', 'electron', 'main.js');

if (electronBinary && fs.existsSync(String(electronBinary)) && hasDisplay && fs.existsSync(mainJs)) {
  const r = spawnSync(String(electronBinary), [root, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
console.log(`No Electron binary or no display here: running the headless demo (node bin/lockstep.js demo).\n`);
const r = spawnSync(process.execPath, [path.join(root, 'bin', 'lockstep.js'), 'demo', ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
