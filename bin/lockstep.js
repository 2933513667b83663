#!/usr/bin/env node
// The `lockstep` command: the compiled CLI (npm ci runs the TypeScript build through "prepare").
const { runCli } = require('../build/cli/main.js');

runCli(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  stdin: process.stdin,
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`error E_INTERNAL: ${(err && err.stack) || String(err)}\n`);
    process.exitCode = 1;
  },
);
