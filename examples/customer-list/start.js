#!/usr/bin/env node
// `npm start`: the client in Electron where its binary was installed and a display exists; elsewhere (a server, CI,
// a machine that could not download Electron) Lockstep's headless demo of the same update loop (its `lockstep` CLI).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

let electronBinary = null;
try {
  electronBinary = require('electron'); // the binary's path, when its download succeeded
} catch {
  electronBinary = null;
}
const hasDisplay = process.platform === 'win32' || process.platform === 'darwin' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(__dirname, 'tsconfig.json')], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
if (electronBinary && fs.existsSync(String(electronBinary)) && hasDisplay) {
  const r = spawnSync(String(electronBinary), [__dirname, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
console.log('No Electron binary or no display here: running Lockstep\'s headless demo instead (lockstep demo).\n');
const r = spawnSync(process.execPath, [path.join(path.dirname(require.resolve('lockstep')), '..', '..', 'bin', 'lockstep.js'), 'demo', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
